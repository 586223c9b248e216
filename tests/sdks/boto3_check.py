"""boto3 against the replay server: every recording a boto3 client can send is sent, and what
botocore makes of the recorded answer is compared with what the recording says.

Run by tests/sdks/check.sh (which starts `conform serve` on loopback); not part of `cargo test`
because it needs Python and boto3. Exits non-zero on any difference.
"""

import glob
import json
import os
import sys

import boto3
import botocore.config
import botocore.exceptions
import yaml

endpoint = sys.argv[1]
root = os.path.join(os.path.dirname(__file__), "..", "..", "recordings")
client = boto3.client(
    "inspector",
    endpoint_url=endpoint,
    region_name="us-west-2",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="test-secret",
    # botocore validates lengths before sending; the boundary cases are for raw clients.
    config=botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=False),
)

checked = skipped = failed = 0
for path in sorted(glob.glob(os.path.join(root, "**", "*.yaml"), recursive=True)):
    recording = yaml.safe_load(open(path))
    # service.yaml beside the recordings names their model: it holds no exchanges.
    for exchange in recording.get("exchanges", []):
        request, response = exchange["request"], exchange["response"]
        body = request.get("body")
        headers = {k.lower(): v for k, v in request.get("headers", {}).items()}
        sendable = (
            request["method"] == "POST"
            and request["path"] == "/"
            and headers.get("x-amz-target") == "InspectorService.StartAssessmentRun"
            and headers.get("content-type") == "application/x-amz-json-1.1"
            # A generated error request carries x-conform-fault, which an SDK does not send.
            and "x-conform-fault" not in headers
            and isinstance(body, dict)
            and set(body) <= {"assessmentTemplateArn", "assessmentRunName"}
            and all(isinstance(v, str) for v in body.values())
            and "assessmentTemplateArn" in body
        )
        if not sendable:
            skipped += 1
            continue
        checked += 1
        recorded = json.loads(response["body"]) if response.get("body") else {}
        try:
            out = client.start_assessment_run(**body)
            ok = response["status"] == 200 and out["assessmentRunArn"] == recorded.get("assessmentRunArn")
            got = out.get("assessmentRunArn")
        except botocore.exceptions.ClientError as e:
            err = e.response["Error"]
            want = recorded.get("__type", "").split(":")[0].split("#")[-1]
            ok = response["status"] >= 400 and err.get("Code") == want
            got = f"{err.get('Code')} ({e.response['ResponseMetadata']['HTTPStatusCode']})"
            if ok and "errorCode" in recorded:
                ok = e.response.get("errorCode") == recorded["errorCode"]
        if not ok:
            failed += 1
            print(f"DIFFERENT {os.path.relpath(path, root)}: boto3 made {got!r} of the recorded answer")
print(f"boto3 {boto3.__version__}; skipped: recorded requests no SDK sends (protocol edges, nulls, wrong types)")
print(f"boto3: {checked - failed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
