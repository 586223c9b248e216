#!/usr/bin/env bash
# Stops the moto_server that tests/moto/start.sh started (by the pid it wrote; nothing else).
set -euo pipefail
cd "$(dirname "$0")/../.."
pid_file=${MOTO_PID_FILE:-target/moto/moto.pid}
[ -f "$pid_file" ] || exit 0
pid=$(cat "$pid_file")
if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pid_file"
