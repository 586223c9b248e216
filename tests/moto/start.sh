#!/usr/bin/env bash
# Starts moto_server on a free loopback port, waits until it answers, and prints its URL on
# stdout (nothing else goes to stdout). Its pid goes to $MOTO_PID_FILE (default
# target/moto/moto.pid) and its log to target/moto/moto.log; tests/moto/stop.sh stops it.
# Binds 127.0.0.1 only: nothing here listens beyond loopback or contacts AWS.
#   URL=$(tests/moto/start.sh)   ...   tests/moto/stop.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=target/moto
mkdir -p "$dir"
pid_file=${MOTO_PID_FILE:-$dir/moto.pid}
log=$dir/moto.log
if ! command -v moto_server >/dev/null; then
    echo "tests/moto/start.sh: moto_server not found; install it with: python3 -m pip install 'moto[server]'" >&2
    exit 2
fi
# A free port: the kernel picks one for a socket bound to port 0, which is then closed. Another
# process could take it before moto binds it; the wait below then fails loudly, never silently.
port=${MOTO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
# Fake credentials only, in case moto's process looks for some; never real ones.
AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 \
    nohup moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
echo $! >"$pid_file"
url=http://127.0.0.1:$port
for _ in $(seq 1 150); do
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        echo "tests/moto/start.sh: moto_server exited; its log ($log):" >&2
        cat "$log" >&2
        exit 1
    fi
    # moto's dashboard answers once the server is up.
    if curl -s -o /dev/null --max-time 1 "$url/moto-api/"; then
        echo "$url"
        exit 0
    fi
    sleep 0.2
done
echo "tests/moto/start.sh: moto_server did not answer on $url within 30 s; its log ($log):" >&2
cat "$log" >&2
kill "$(cat "$pid_file")" 2>/dev/null || true
exit 1
