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
apart, in the upstream process). Every server is measured once a round, in turn, for
CONFORM_BENCH_ROUNDS rounds (default 3); the figures are the rounds' medians.

On a disk file system, creating a file costs more the more files were deleted there in the last
minutes (ext4 without a journal skips recently freed inodes one by one): run it a few minutes after
anything that deleted many files, this script's own clean-up included. The Python figure printed
beside each `new` row shows what the file system charged at the time.

Usage: bench/proxy.py [N]   (default 3000; needs a release build: cargo build --release --bin conform)
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
ROUNDS = int(os.environ.get("CONFORM_BENCH_ROUNDS", "3"))
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


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main():
    if not os.access(BIN, os.X_OK):
        raise SystemExit(f"bench/proxy.py: no binary at {BIN} (cargo build --release --bin conform)")
    work = pathlib.Path(tempfile.mkdtemp())
    procs = []
    # Where `new` records: this disk, and a RAM file system (tmpfs) where creating a file costs
    # the kernel's bookkeeping and no more; each is followed by the same file creations done by
    # Python, so that what the file system itself costs is visible apart from conform's work.
    targets = [("this disk", work)] + ([("tmpfs", pathlib.Path(SHM))] if SHM else [])
    new_dirs = [pathlib.Path(tempfile.mkdtemp(dir=base)) for _, base in targets]
    try:
        # The replay's recordings, plus one recording per distinct run name `new` will see, so that
        # the upstream answers every one of them (the proxy records what it forwards).
        recordings = work / "recordings"
        shutil.copytree(ROOT / "recordings/inspector", recordings / "inspector")
        sample = (ROOT / "recordings/inspector/StartAssessmentRun/documented_sample_exchange.yaml").read_text()
        extra = recordings / "inspector/bench"
        extra.mkdir()
        # Warm-up names, then N new names per round and per file system.
        distinct_count = 50 + N * ROUNDS * len(targets)
        for i in range(distinct_count):
            (extra / f"run_{i}.yaml").write_text(
                sample.replace("assessmentRunName: examplerun\n", f"assessmentRunName: bench-{i}\n", 1))
        documented = json.dumps({"assessmentRunName": "examplerun", "assessmentTemplateArn": TEMPLATE},
                                separators=(",", ":"))
        same = [documented] * N
        distinct = [json.dumps({"assessmentRunName": f"bench-{i}", "assessmentTemplateArn": TEMPLATE},
                               separators=(",", ":")) for i in range(distinct_count)]

        serve, serve_url = start(["serve", "--recordings", str(recordings), "--addr", "127.0.0.1:0"])
        procs.append(serve)
        replay, replay_url = start(["proxy", "--mode", "replay", "--recordings", str(recordings),
                                    "--addr", "127.0.0.1:0"])
        procs.append(replay)
        passthrough, pt_url = start(["proxy", "--mode", "passthrough", "--upstream", serve_url,
                                     "--recordings", str(work / "none"), "--addr", "127.0.0.1:0"])
        procs.append(passthrough)
        news = []
        for (label, _), new_dir in zip(targets, new_dirs):
            new, new_url = start(["proxy", "--mode", "new", "--upstream", serve_url, "--recordings",
                                  str(new_dir), "--addr", "127.0.0.1:0"])
            procs.append(new)
            news.append((label, new, new_url, new_dir))
        # Warm-up: connections, caches; the first 50 distinct names go to every `new` proxy.
        for url in (serve_url, replay_url, pt_url):
            load(url, same[:50])
        for _, _, new_url, _ in news:
            load(new_url, distinct[:50])

        # ROUNDS rounds, every server measured once a round, in turn: the machine's speed drifts
        # within minutes, and a single run of each would put that drift between them.
        rows = {}
        fs_us = {label: [] for label, _ in targets}
        next_name = 50
        for r in range(ROUNDS):
            for name, proc, url, upstream in (
                ("conform serve (peer)", serve, serve_url, None),
                ("conform proxy --mode replay", replay, replay_url, None),
                ("conform proxy --mode passthrough", passthrough, pt_url, serve),
            ):
                rows.setdefault(name, []).append(measure(name, proc, url, same, upstream=upstream))
            for label, new, new_url, new_dir in news:
                bodies = distinct[next_name:next_name + N]
                next_name += N
                name = f"conform proxy --mode new, recording to {label}"
                rows.setdefault(name, []).append(measure(name, new, new_url, bodies, upstream=serve))
                sizes = [p.stat().st_size for p in (new_dir / "proxy").rglob("*.yaml")][:N]
                fs_us[label].append(create_files_cost(new_dir / f"python-files-{r}", sizes))

        def med(name, key):
            return median([row[key] for row in rows[name]])

        peer = med("conform serve (peer)", "cpu_us_per_request")
        print(f"load average: {open('/proc/loadavg').read().split()[:3]}; {N} requests per server and "
              f"round, {ROUNDS} rounds (servers in turn), one keep-alive connection; medians of the rounds")
        print(f"{'server':52} {'CPU µs/req':>11} {'overhead':>9} {'vs serve':>9} {'req/s':>8} {'rounds (CPU µs/req)':>24}")
        for name in rows:
            cpu = med(name, "cpu_us_per_request")
            each = " ".join(f"{row['cpu_us_per_request']:.0f}" for row in rows[name])
            ok = all(row["ok"] == row["requests"] for row in rows[name])
            print(f"{name:52} {cpu:11.1f} {cpu - peer:9.1f} {cpu / peer:8.2f}x "
                  f"{med(name, 'requests_per_s'):8.0f} {each:>24}{'' if ok else '  (NOT ALL 200)'}")
        for label, new, _, new_dir in news:
            name = f"conform proxy --mode new, recording to {label}"
            written = sum(1 for _ in (new_dir / "proxy").rglob("*.yaml"))
            print(f"recording to {label}: `new` wrote {written} recordings; of the proxy's CPU, "
                  f"{med(name, 'syncer_cpu_us_per_request'):.1f} µs/req was its syncer thread's syncfs "
                  f"(the kernel writing them back to disk); the upstream, serve, used "
                  f"{med(name, 'upstream_cpu_us_per_request'):.1f} µs/req of its own CPU (not counted "
                  f"above); creating one file of the same size there (Python: temporary file + rename, no "
                  f"sync), just after each round, cost {median(fs_us[label]):.1f} µs of CPU "
                  f"({' '.join(f'{v:.0f}' for v in fs_us[label])}): the part that is the file system's own")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        for d in new_dirs:
            shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
