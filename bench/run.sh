#!/usr/bin/env bash
# Every speed benchmark in one command: builds the release binary once, then runs the runner
# benchmark (`cargo bench --bench runner`, issue #2) and the replay server benchmark
# (bench/replay.sh, issue #4). Figures go to stdout, build noise to stderr. See bench/README.md.
#
# Usage: bench/run.sh            (CONFORM_BENCH_LARGE=1 adds the 100,000-case suite)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "conform speed benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo

cargo build --release --bin conform >&2
# The bench target times target/release/conform itself; the replay script must not rebuild.
cargo bench --bench runner
CONFORM_BENCH_NO_BUILD=1 bench/replay.sh

echo
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (other work on the machine skews every figure)"
