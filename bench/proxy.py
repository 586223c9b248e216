#!/usr/bin/env python3
"""conform proxy overhead (issue 13): CPU per request of `conform proxy` in each mode, with
`conform serve` answering the same requests as the peer measured in the same run.

A benchmark, not a test: it prints figures and exits 0 however slow they are.

For each server it starts the release binary on loopback, sends N requests over one keep-alive
connection (Python's http.client; the client's own CPU is not counted), and reads the server
process's user+system CPU from /proc/<pid>/stat before and after. Servers:

- serve:             `conform serve` answering the documented request (the peer);
- proxy replay:      `conform proxy --mode replay`, the same recordings;
- proxy passthrough: `conform proxy --mode passthrough --upstream <serve>` (forwarding only);
- proxy new:         `conform proxy --mode new --upstream <serve>`, every request a distinct
                     run name, so every one is forwarded, recorded (atomic write) and then served.

Overhead of a proxy mode = its CPU per request minus serve's (the upstream's own CPU is counted
apart, in the upstream process). Usage: bench/proxy.py [N]   (default 3000; needs a release build:
cargo build --release --bin conform)
"""

import http.client
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = os.environ.get("CONFORM_BIN", str(ROOT / "target/release/conform"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
TICK = os.sysconf("SC_CLK_TCK")
TEMPLATE = "arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T"
HEADERS = {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": "InspectorService.StartAssessmentRun",
}


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def syncer_cpu_seconds(pid):
    """CPU of the proxy's `conform-sync` thread: its syncfs calls, where the kernel writes the
    recordings back to disk (on tmpfs, nothing)."""
    total = 0.0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == "conform-sync":
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
    return total


def start(args):
    proc = subprocess.Popen([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"(?:listening on|proxy on|at) (http://[0-9.:]+)", line or "")
        if m:
            return proc, m.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"bench/proxy.py: {' '.join(args)} did not start")


def load(url, bodies):
    host = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=30)
    ok = 0
    for body in bodies:
        conn.request("POST", "/", body=body, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        ok += response.status == 200
    conn.close()
    return ok


def measure(name, proc, url, bodies, upstream=None):
    load(url, bodies[:50])  # warm-up: connection, caches
    before = cpu_seconds(proc.pid)
    sync_before = syncer_cpu_seconds(proc.pid)
    up_before = cpu_seconds(upstream.pid) if upstream else 0.0
    started = time.perf_counter()
    ok = load(url, bodies)
    wall = time.perf_counter() - started
    time.sleep(0.2)  # the syncer's last batch (50 ms) belongs to these requests
    cpu = cpu_seconds(proc.pid) - before
    sync = syncer_cpu_seconds(proc.pid) - sync_before
    up = (cpu_seconds(upstream.pid) - up_before) if upstream else 0.0
    return {
        "syncer_cpu_us_per_request": sync / len(bodies) * 1e6,
        "server": name,
        "requests": len(bodies),
        "ok": ok,
        "cpu_us_per_request": cpu / len(bodies) * 1e6,
        "upstream_cpu_us_per_request": up / len(bodies) * 1e6,
        "requests_per_s": len(bodies) / wall,
    }


# A RAM file system, where creating a file costs what the kernel's bookkeeping costs and no more.
SHM = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def create_files_cost(folder, sizes):
    """CPU µs this process spends creating one file of each size in `folder` (temporary file,
    then rename, no sync), as the proxy does."""
    folder.mkdir()
    t = os.times()
    before = t.user + t.system
    for i, size in enumerate(sizes):
        tmp = folder / f".f{i}.tmp"
        tmp.write_bytes(b"x" * size)
        tmp.rename(folder / f"f{i}.yaml")
    t = os.times()
    return (t.user + t.system - before) / max(len(sizes), 1) * 1e6


def main():
    if not os.access(BIN, os.X_OK):
        raise SystemExit(f"bench/proxy.py: no binary at {BIN} (cargo build --release --bin conform)")
    work = pathlib.Path(tempfile.mkdtemp())
    procs = []
    try:
        # The replay's recordings, plus one recording per distinct run name `new` will see, so that
        # the upstream answers every one of them (the proxy records what it forwards).
        recordings = work / "recordings"
        shutil.copytree(ROOT / "recordings/inspector", recordings / "inspector")
        sample = (ROOT / "recordings/inspector/StartAssessmentRun/documented_sample_exchange.yaml").read_text()
        extra = recordings / "inspector/bench"
        extra.mkdir()
        for i in range(N + 50):
            (extra / f"run_{i}.yaml").write_text(
                sample.replace("assessmentRunName: examplerun\n", f"assessmentRunName: bench-{i}\n", 1))
        documented = json.dumps({"assessmentRunName": "examplerun", "assessmentTemplateArn": TEMPLATE},
                                separators=(",", ":"))
        same = [documented] * N
        distinct = [json.dumps({"assessmentRunName": f"bench-{i}", "assessmentTemplateArn": TEMPLATE},
                               separators=(",", ":")) for i in range(N + 50)]

        serve, serve_url = start(["serve", "--recordings", str(recordings), "--addr", "127.0.0.1:0"])
        procs.append(serve)
        rows = [measure("conform serve (peer)", serve, serve_url, same)]

        replay, replay_url = start(["proxy", "--mode", "replay", "--recordings", str(recordings),
                                    "--addr", "127.0.0.1:0"])
        procs.append(replay)
        rows.append(measure("conform proxy --mode replay", replay, replay_url, same))

        passthrough, pt_url = start(["proxy", "--mode", "passthrough", "--upstream", serve_url,
                                     "--recordings", str(work / "none"), "--addr", "127.0.0.1:0"])
        procs.append(passthrough)
        rows.append(measure("conform proxy --mode passthrough", passthrough, pt_url, same, upstream=serve))

        # `new` twice: recording onto this disk, and onto a RAM file system (tmpfs), each
        # followed by the same file creations done by Python, so that what the file system
        # itself costs is visible apart from conform's own work.
        fs_rows = []
        for label, base in (("this disk", work), ("tmpfs", SHM)):
            if base is None:
                continue
            new_dir = pathlib.Path(tempfile.mkdtemp(dir=base))
            try:
                new, new_url = start(["proxy", "--mode", "new", "--upstream", serve_url, "--recordings",
                                      str(new_dir), "--addr", "127.0.0.1:0"])
                procs.append(new)
                # Warm-up takes the first 50 distinct bodies; the measured ones are all new.
                load(new_url, distinct[:50])
                row = measure(f"conform proxy --mode new, recording to {label}", new, new_url,
                              distinct[50:], upstream=serve)
                rows.append(row)
                new.terminate()
                new.wait(5)
                written = sum(1 for _ in new_dir.rglob("*.yaml"))
                sizes = [p.stat().st_size for p in new_dir.rglob("*.yaml")][:N]
                fs_rows.append((label, written, create_files_cost(new_dir / "python-files", sizes), row))
            finally:
                shutil.rmtree(new_dir, ignore_errors=True)

        peer = rows[0]["cpu_us_per_request"]
        print(f"load average: {open('/proc/loadavg').read().split()[:3]}; {N} requests per server, one keep-alive connection")
        print(f"{'server':52} {'CPU µs/req':>11} {'overhead':>9} {'vs serve':>9} {'req/s':>8} {'ok':>6}")
        for r in rows:
            cpu = r["cpu_us_per_request"]
            print(f"{r['server']:52} {cpu:11.1f} {cpu - peer:9.1f} {cpu / peer:8.2f}x {r['requests_per_s']:8.0f} {r['ok']:6}")
        for label, written, fs_us, row in fs_rows:
            print(f"recording to {label}: of the proxy's CPU, {row['syncer_cpu_us_per_request']:.1f} µs/req was its "
                  f"syncer thread's syncfs (the kernel writing the recordings back to disk); the rest, "
                  f"{row['cpu_us_per_request'] - row['syncer_cpu_us_per_request'] - peer:.1f} µs/req over serve, "
                  f"is the request path")
            print(f"recording to {label}: `new` wrote {written} recordings (the upstream, serve, used "
                  f"{row['upstream_cpu_us_per_request']:.1f} µs/req of its own CPU, not counted above); "
                  f"creating one file of the same size there (Python: temporary file + rename, no sync) "
                  f"cost {fs_us:.1f} µs of CPU, measured just after: the part that is the file system's own")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
