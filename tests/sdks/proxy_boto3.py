#!/usr/bin/env python3
"""boto3 through `conform proxy --mode new` in front of a local SigV4-checking stand-in (issue 13).

Usage: python3 tests/sdks/proxy_boto3.py path/to/conform

The stand-in is this script's own: a loopback HTTP server that recomputes every request's SigV4
signature with botocore's signer (never by hand) from the credentials conform is given, refuses
anything else with 403, and answers a valid StartAssessmentRun with a fresh assessmentRunArn, as
tests/it/support_sigv4.rs does for the Rust tests. Its answers are a test double's, not evidence
of what AWS answers.

Checks: boto3 gets the stand-in's answers through the proxy; the stand-in sees only conform's
valid signatures (boto3 signs with other, fake, credentials); a repeated request is answered from
the new recording; Ctrl-C stops the proxy; `conform serve` replays the recordings back to boto3;
no credential of boto3's or conform's is in any file or output. Nothing talks to AWS.
"""

import hmac
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

TEMPLATE_ARN = "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T"
REGION = "us-west-2"
# conform's credentials (the stand-in knows only these) and boto3's (the proxy must drop them).
CONFORM = ("AKIDBOTOPROXYCONFORM", "botoProxyConformSecretRt6Wq2Nz8Lk4Xv1Hm3", "botoProxyConformTokenJd7Gs3Pw9Kb2Vc5Ny8")
CLIENT = ("AKIDBOTOPROXYCLIENT1", "botoProxyClientSecretQm4Zt8Hx2Nv6Ld9Wk1", "botoProxyClientTokenYb5Rf1Tk7Mc3Gz9Ps2")
SECRETS = CONFORM + CLIENT


class StandIn(BaseHTTPRequestHandler):
    requests = 0
    accepted = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with StandIn.lock:
            StandIn.requests += 1
        problem = self.check(body)
        if problem:
            return self.answer(403, {"__type": "InvalidSignatureException", "message": problem})
        with StandIn.lock:
            StandIn.accepted += 1
            n = StandIn.accepted
        arn = json.loads(body or b"{}").get("assessmentTemplateArn")
        if not arn:
            return self.answer(400, {"__type": "InvalidInputException", "message": "assessmentTemplateArn is required"})
        self.answer(200, {"assessmentRunArn": f"{arn}/run/0-boto{n:04d}"})

    def check(self, body):
        auth = self.headers.get("Authorization", "")
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]+)$", auth)
        if not m:
            return "no SigV4 Authorization header"
        key, _, region, service, signed, signature = m.groups()
        if key != CONFORM[0]:
            return "the access key id is not known here"
        if (region, service) != (REGION, "inspector"):
            return "wrong credential scope"
        if self.headers.get("X-Amz-Security-Token") != CONFORM[2]:
            return "the session token is not the one issued with this key"
        names = signed.split(";")
        for required in ("content-type", "host", "x-amz-date", "x-amz-target"):
            if required not in names:
                return f"{required} is not signed"
        request = AWSRequest(method="POST", url=f"http://{self.headers['Host']}{self.path}", data=body,
                             headers={n: self.headers[n] for n in names if self.headers.get(n) is not None})
        request.context["timestamp"] = self.headers["X-Amz-Date"]
        signer = SigV4Auth(Credentials(*CONFORM), "inspector", REGION)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, signature):
            return "the signature does not match"
        return None

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", f"00000000-0000-4000-8000-{StandIn.requests:012x}")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start(command, env):
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"proxy_boto3: {' '.join(command[:2])} did not start: {line!r} {proc.stderr.read()}")
    return proc, line.split(" ", 2)[2].strip()


def stop(proc):
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, f"exit {proc.returncode}: {err}"
    return out + err


def inspector(url):
    return boto3.client(
        "inspector", region_name=REGION, endpoint_url=url,
        aws_access_key_id=CLIENT[0], aws_secret_access_key=CLIENT[1], aws_session_token=CLIENT[2],
        config=Config(retries={"max_attempts": 1}),
    )


def run(url, name):
    return inspector(url).start_assessment_run(assessmentTemplateArn=TEMPLATE_ARN, assessmentRunName=name)["assessmentRunArn"]


def main():
    conform = sys.argv[1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stand_in = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        recordings = pathlib.Path(tmp, "recordings")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(NO_COLOR="1", HOME=tmp, AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=str(pathlib.Path(tmp, "none")), AWS_SHARED_CREDENTIALS_FILE=str(pathlib.Path(tmp, "none")),
                   AWS_ACCESS_KEY_ID=CONFORM[0], AWS_SECRET_ACCESS_KEY=CONFORM[1], AWS_SESSION_TOKEN=CONFORM[2])
        proxy, url = start([conform, "proxy", "--mode", "new", "--upstream", stand_in, "--sign", "--region", REGION,
                            "--recordings", str(recordings), "--addr", "127.0.0.1:0",
                            "--model", str(pathlib.Path(__file__).resolve().parents[2] / "cases/inspector/model/inspector-2016-02-16.json")], env)
        first = run(url, "botorun")
        assert first == f"{TEMPLATE_ARN}/run/0-boto0001", first
        assert run(url, "botorun") == first, "the repeat is answered from the new recording"
        other = run(url, "otherrun")
        assert other == f"{TEMPLATE_ARN}/run/0-boto0002", other
        output = stop(proxy)
        assert (StandIn.requests, StandIn.accepted) == (2, 2), (StandIn.requests, StandIn.accepted)

        files = sorted(p for p in recordings.rglob("*") if p.is_file())
        assert len(files) == 2, files
        texts = [output] + [p.read_text() for p in files]
        serve, url = start([conform, "serve", "--recordings", str(recordings), "--addr", "127.0.0.1:0"], env)
        assert run(url, "botorun") == first
        assert run(url, "otherrun") == other
        texts.append(stop(serve))
        for text in texts:
            for secret in SECRETS:
                assert secret not in text, f"a credential leaked:\n{text}"
    server.shutdown()
    print(f"proxy_boto3: boto3 through conform proxy --mode new: 2 answers recorded from the stand-in "
          f"(only conform's signatures seen), replayed back by conform serve; no credential in any file or output")


if __name__ == "__main__":
    main()
