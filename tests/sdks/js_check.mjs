// aws-sdk-js v3 (@aws-sdk/client-inspector) against the replay server: every recording an SDK
// can send is sent, and what the SDK makes of the recorded answer is compared with the
// recording. Run by tests/sdks/check.sh; exits non-zero on any difference.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { InspectorClient, StartAssessmentRunCommand } from "@aws-sdk/client-inspector";
import yaml from "js-yaml";

const endpoint = process.argv[2];
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "recordings");
const files = (dir) => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n);
  return statSync(p).isDirectory() ? files(p) : p.endsWith(".yaml") ? [p] : [];
}).sort();
const client = new InspectorClient({
  endpoint, region: "us-west-2", maxAttempts: 1,
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "test-secret" },
});

let checked = 0, skipped = 0, failed = 0;
for (const path of files(root)) {
  const recording = yaml.load(readFileSync(path, "utf8"));
  // service.yaml beside the recordings names their model: it holds no exchanges.
  for (const { request, response } of recording.exchanges ?? []) {
    const body = request.body;
    const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const sendable = request.method === "POST" && request.path === "/"
      && headers["x-amz-target"] === "InspectorService.StartAssessmentRun"
      && headers["content-type"] === "application/x-amz-json-1.1"
      // A generated error request carries x-conform-fault, which an SDK does not send.
      && !("x-conform-fault" in headers)
      && body && typeof body === "object" && !Array.isArray(body)
      && Object.keys(body).every((k) => ["assessmentTemplateArn", "assessmentRunName"].includes(k))
      && Object.values(body).every((v) => typeof v === "string") && "assessmentTemplateArn" in body;
    if (!sendable) { skipped++; continue; }
    checked++;
    const recorded = response.body ? JSON.parse(response.body) : {};
    let ok, got;
    try {
      const out = await client.send(new StartAssessmentRunCommand(body));
      got = out.assessmentRunArn;
      ok = response.status === 200 && got === recorded.assessmentRunArn;
    } catch (e) {
      const want = (recorded.__type ?? "").split(":")[0].split("#").pop();
      got = `${e.name} (${e.$metadata?.httpStatusCode})`;
      ok = response.status >= 400 && e.name === want && (!("errorCode" in recorded) || e.errorCode === recorded.errorCode);
    }
    if (!ok) { failed++; console.log(`DIFFERENT ${relative(root, path)}: aws-sdk-js made ${got} of the recorded answer`); }
  }
}
console.log("aws-sdk-js v3; skipped: recorded requests no SDK sends (protocol edges, nulls, wrong types)");
console.log(`aws-sdk-js: ${checked - failed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
