#!/usr/bin/env bash
# Replay soak (issue #7): one `conform serve` on loopback, a million requests from several
# connections, valid and malformed mixed; zero wrong answers, no crash, memory sampled.
# How to read the output: bench/SOAK.md.
#
#   bench/soak.sh                       # 1 000 000 requests, 8 connections
#   REQUESTS=100000 CONNECTIONS=4 bench/soak.sh
#
# Exits 0 only when every answer to a recorded request equalled its recording, every request
# got an answer, the server still answered at the end and exited 0 on SIGINT without a panic.
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-1000000}
CONNECTIONS=${CONNECTIONS:-8}
RECORDINGS=${RECORDINGS:-recordings}

# Release build of the server and the load client (the example also builds dev-dependencies).
cargo build --release --bin conform --example soak_client

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# Port 0: the server picks a free port and says which on stdout. Its stderr carries a
# near-miss report for every malformed request (hundreds of MB over a soak): keep only the
# lines that are not part of one (start, shutdown summary, warnings, panics).
target/release/conform serve --recordings "$RECORDINGS" --addr 127.0.0.1:0 \
  >"$work/serve.out" \
  2> >(LC_ALL=C grep -v -e '^no recording matches' -e '^ ' >"$work/serve.err") &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/serve.out")
[ -n "$url" ] || { echo "soak: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
echo "soak: conform serve pid $pid on $url"

client_status=0
target/release/examples/soak_client --url "$url" --pid "$pid" \
  --requests "$REQUESTS" --connections "$CONNECTIONS" --recordings "$RECORDINGS" \
  || client_status=$?

alive=no
kill -0 "$pid" 2>/dev/null && alive=yes
echo "soak: server alive after the load: $alive"
serve_status=none
if [ "$alive" = yes ]; then
  kill -INT "$pid"
  serve_status=0
  wait "$pid" || serve_status=$?
fi
sleep 0.2 # let the stderr filter finish
echo "soak: server exit status on SIGINT: $serve_status"
panics=$(grep -c 'panicked' "$work/serve.err" || true)
echo "soak: panics on the server's stderr: $panics"
grep '^conform serve: ' "$work/serve.err" | sed 's/^/soak: /' || true
grep -A1 'panicked' "$work/serve.err" | sort | uniq -c | sort -rn | head -4 | sed 's/^/soak:   /' || true

if [ "$client_status" -ne 0 ] || [ "$alive" != yes ] || [ "$serve_status" != 0 ] || [ "$panics" -ne 0 ]; then
  echo "soak: FAILED"
  exit 1
fi
echo "soak: OK"
