#!/usr/bin/env bash
# Replay server speed (issue #4): start-up with 1,000 recordings, requests/s and latency for the
# documented sample request, and the server's memory before, after a 10 s load and after a long
# run of at least one million requests. The load generator is wrk, in its own process on
# loopback. A benchmark, not a test: it prints figures and exits 0 however slow they are.
#
# Usage: bench/replay.sh   (from anywhere; see bench/README.md for the settings below)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONFORM_BIN:-$ROOT/target/release/conform}
RECORDINGS=${CONFORM_BENCH_RECORDINGS:-1000}
DURATION=${CONFORM_BENCH_DURATION:-10}
THREADS=${CONFORM_BENCH_THREADS:-2}
CONNECTIONS=${CONFORM_BENCH_CONNECTIONS:-64}
LONG_REQUESTS=${CONFORM_BENCH_LONG_REQUESTS:-1000000}
RSS_CAP_MB=${CONFORM_BENCH_RSS_CAP_MB:-2048}
STARTS=${CONFORM_BENCH_STARTS:-10}
CLIENT_CPU=${CONFORM_BENCH_CLIENT_CPU:-1}
PERF=${CONFORM_BENCH_PERF:-0}

# Issue #4 targets, printed beside the measured figures.
TARGET_RPS=50000
TARGET_P99_MS=2
TARGET_RSS_MB=30
TARGET_START_MS=50

TEMPLATE_ARN='arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T'
BODY="{\"assessmentRunName\":\"examplerun\",\"assessmentTemplateArn\":\"$TEMPLATE_ARN\"}"

if ! command -v wrk >/dev/null; then
    echo "bench/replay.sh: wrk not found; install it with: apt-get update && apt-get install -y wrk" >&2
    exit 2
fi
if [[ -z ${CONFORM_BENCH_NO_BUILD:-} ]]; then
    cargo build --release --bin conform >&2
fi
[[ -x $BIN ]] || { echo "bench/replay.sh: no binary at $BIN" >&2; exit 2; }

WORK=$(mktemp -d)
SERVER=
cleanup() {
    if [[ -n $SERVER ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---- Recordings: the real ones plus variants of the documented sample with distinct run names.
DIR=$WORK/recordings
cp -r "$ROOT/recordings" "$DIR"
real=$(find "$DIR" -name '*.yaml' | wc -l)
sample=$(<"$ROOT/recordings/inspector/StartAssessmentRun/documented_sample_exchange.yaml")
[[ $sample == *"assessmentRunName: examplerun"$'\n'* ]] || {
    echo "bench/replay.sh: the documented sample recording changed shape; update the generator" >&2
    exit 2
}
mkdir -p "$DIR/generated"
for ((i = 1; i <= RECORDINGS - real; i++)); do
    printf '%s\n' "${sample//"assessmentRunName: examplerun"$'\n'/"assessmentRunName: examplerun-$i"$'\n'}" \
        >"$DIR/generated/sample_$i.yaml"
done
count=$(find "$DIR" -name '*.yaml' | wc -l)

# ---- Helpers (builtins only inside timed loops: no fork per poll).
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 40000))
        [[ -z $(ss -Htln "sport = :$p") ]] && { echo "$p"; return; }
    done
}
exec {NAP}<> <(:)               # `read -t` on this never gets data: a builtin sleep
nap() { read -r -t "$1" -u "$NAP" || true; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.3f", us / 1000 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
start_server() {
    "$BIN" serve --recordings "$DIR" --addr "127.0.0.1:$PORT" >"$WORK/serve.out" 2>"$WORK/serve.err" &
    SERVER=$!
}
stop_server() {
    kill -INT "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
}
# Connects (polling every 0.5 ms until the port accepts), sends the sample request and reads
# the status line, again until the answer is a 200: the port accepts before the replay is
# mounted, and a request in that window is answered 404 (counted in EARLY_NON_200).
first_answer() {
    local fd line
    EARLY_NON_200=0
    while :; do
        until exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; do nap 0.0005; done 2>/dev/null
        printf 'POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-amz-json-1.1\r\nx-amz-target: InspectorService.StartAssessmentRun\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s' \
            "${#BODY}" "$BODY" >&"$fd"
        read -r -t 10 line <&"$fd" || line="(no answer)"
        exec {fd}>&-
        line=${line%$'\r'}
        [[ $line == "HTTP/1.1 200"* || $line == "(no answer)" ]] && break
        EARLY_NON_200=$((EARLY_NON_200 + 1))
        ((EARLY_NON_200 < 1000)) || break
    done
    FIRST_LINE=$line
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

LUA=$WORK/sample.lua
cat >"$LUA" <<EOF
wrk.method = "POST"
wrk.headers["content-type"] = "application/x-amz-json-1.1"
wrk.headers["x-amz-target"] = "InspectorService.StartAssessmentRun"
wrk.body = '$BODY'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
EOF
# Runs wrk for $1 seconds; leaves its RESULT fields in shell variables, and the client's CPU
# (user + system seconds) in client_cpu.
load() {
    local out result TIMEFORMAT='%U %S'
    { time out=$(taskset -c "$CLIENT_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1"s --latency -s "$LUA" "http://127.0.0.1:$PORT/"); } 2>"$WORK/time"
    client_cpu=$(awk '{ print $1 + $2 }' "$WORK/time")
    result=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; return 1; }
    eval "${result#RESULT }"
}

echo "== replay server (bench/replay.sh) =="
echo "binary: $BIN"
echo "recordings: $count files ($real real + $((count - real)) generated variants of the documented sample)"
echo "machine: $(nproc) cores; wrk ($THREADS threads, $CONNECTIONS connections) pinned to CPU $CLIENT_CPU with taskset;"
echo "  the server is not pinned, so client and server share the $(nproc) cores"
echo

# ---- Start-up: from spawn until the first request is answered.
PORT=$(free_port)
starts=()
early=0
for ((s = 0; s < STARTS; s++)); do
    t0=$EPOCHREALTIME
    start_server
    first_answer
    t1=$EPOCHREALTIME
    [[ $FIRST_LINE == "HTTP/1.1 200"* ]] || { echo "first answer was: $FIRST_LINE" >&2; cat "$WORK/serve.err" >&2; exit 1; }
    starts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
    early=$((early + EARLY_NON_200))
    stop_server
done
start_ms=$(printf '%s\n' "${starts[@]}" | median)
echo "start-up with $count recordings (spawn → first 200 answered): median ${start_ms} ms of $STARTS [$(printf '%s\n' "${starts[@]}" | sort -g | head -1)..$(printf '%s\n' "${starts[@]}" | sort -g | tail -1) ms]"
echo "  answers other than 200 before the first 200 (port open, replay not mounted yet): $early in $STARTS starts"

# ---- Throughput, latency and memory.
start_server
first_answer
[[ $FIRST_LINE == "HTTP/1.1 200"* ]] || { echo "first answer was: $FIRST_LINE" >&2; exit 1; }
curl -sS -X POST -H 'content-type: application/x-amz-json-1.1' \
    -H 'x-amz-target: InspectorService.StartAssessmentRun' --data "$BODY" \
    "http://127.0.0.1:$PORT/" | grep -q '"assessmentRunArn":"arn:aws:inspector:' || {
    echo "the server does not answer the sample request with the documented response" >&2
    exit 1
}
rss0=$(status_kb "$SERVER" VmRSS)
hwm0=$(status_kb "$SERVER" VmHWM)
echo "RSS idle after start: VmRSS $(mb "$rss0") MB, VmHWM $(mb "$hwm0") MB"

if [[ $PERF == 1 ]] && command -v perf >/dev/null; then
    perf record -F 499 --call-graph dwarf,16384 -p "$SERVER" -o "$WORK/perf.data" -- sleep 4 >/dev/null 2>&1 &
    PERF_PID=$!
fi
ticks0=$(cpu_ticks "$SERVER")
load "$DURATION"
ticks1=$(cpu_ticks "$SERVER")
total=$requests
rps=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
cpu_us=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" -v r="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / r }')
cpu_pct=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" -v d="$duration_us" 'BEGIN { printf "%.0f", t / hz / (d / 1e6) * 100 }')
rss1=$(status_kb "$SERVER" VmRSS)
hwm1=$(status_kb "$SERVER" VmHWM)
echo "load ${DURATION} s: ${rps} requests/s ($requests requests, non-2xx $non2xx, socket errors $socket_errors)"
echo "  latency p50 $(ms "$p50_us") ms, p90 $(ms "$p90_us") ms, p99 $(ms "$p99_us") ms, p99.9 $(ms "$p999_us") ms, max $(ms "$max_us") ms"
echo "  server CPU ${cpu_pct}% of one core, ${cpu_us} µs per request; client (wrk) CPU $(awk -v c="$client_cpu" -v d="$duration_us" 'BEGIN { printf "%.0f", c / (d / 1e6) * 100 }')% of its core"
echo "  RSS after: VmRSS $(mb "$rss1") MB, VmHWM $(mb "$hwm1") MB"
if [[ -n ${PERF_PID:-} ]]; then
    wait "$PERF_PID" || true
    echo "  perf profile of the server during the load (time in the function and what it calls):"
    perf report -i "$WORK/perf.data" --children --percent-limit 2 --stdio --sort symbol -g none 2>/dev/null |
        grep -E '^ +[0-9.]+%' | grep -E '\] (conform::[A-Za-z_:]+|<conform::[^ ]+ as [^>]+>::[a-z_]+|wiremock::[A-Za-z_:]+|sysmalloc|tcp_sendmsg|tcp_recvmsg)( +- +- *)?$' |
        sed -E 's/ +/ /g; s/^ //; s/ - - *$//' | cut -c1-150 | head -25 | sed 's/^/    /' || true
fi
p99_10s=$p99_us
requests_10s=$requests

# ---- The long run: chunks of at most 10 s until LONG_REQUESTS, memory after each. A chunk
# that would take the server past RSS_CAP_MB (at the growth per request seen so far) is not
# started: the figure at LONG_REQUESTS is then extrapolated, and says so.
growth=$(awk -v a="$rss0" -v b="$rss1" -v n="$requests_10s" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
echo "long run to ≥$LONG_REQUESTS requests (RSS cap $RSS_CAP_MB MB; the 10 s load grew RSS by $growth bytes per request):"
capped=
while ((total < LONG_REQUESTS)); do
    chunk=$(awk -v left=$((LONG_REQUESTS - total)) -v rps="$rps" 'BEGIN { s = int(left / rps * 1.05) + 1; print (s > 10) ? 10 : s }')
    rss=$(status_kb "$SERVER" VmRSS)
    if awk -v rss="$rss" -v g="$growth" -v n=$((rps * chunk)) -v cap="$RSS_CAP_MB" 'BEGIN { exit !(rss / 1024 + g * n / 1048576 > cap) }'; then
        capped=1
        echo "  stopped at $total requests: the next chunk would pass the $RSS_CAP_MB MB cap"
        break
    fi
    load "$chunk"
    total=$((total + requests))
    rss=$(status_kb "$SERVER" VmRSS)
    echo "  +$requests in ${chunk} s ($(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }') requests/s, non-2xx $non2xx, p99 $(ms "$p99_us") ms): $total requests served, VmRSS $(mb "$rss") MB"
    growth=$(awk -v a="$rss0" -v b="$rss" -v n="$total" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
done
rss2=$(status_kb "$SERVER" VmRSS)
hwm2=$(status_kb "$SERVER" VmHWM)
echo "  RSS after $total requests: VmRSS $(mb "$rss2") MB, VmHWM $(mb "$hwm2") MB; growth since idle: $(mb $((rss2 - rss0))) MB, $growth bytes per request"
if [[ -n $capped ]]; then
    echo "  extrapolated VmRSS at $LONG_REQUESTS requests: $(awk -v a="$rss0" -v g="$growth" -v n="$LONG_REQUESTS" 'BEGIN { printf "%.0f", a / 1024 + g * n / 1048576 }') MB"
fi
stop_server

echo
echo "summary (issue #4 targets):"
verdict() { if awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { exit !((op == "<") ? a < b : a >= b) }'; then echo met; else echo MISSED; fi; }
echo "  requests/s        ${rps} (target ≥$TARGET_RPS): $(verdict "$rps" '>=' $TARGET_RPS)"
p99_ms=$(ms "$p99_10s")
echo "  p99 latency       ${p99_ms} ms at $CONNECTIONS connections (target <$TARGET_P99_MS ms): $(verdict "$p99_ms" '<' $TARGET_P99_MS)"
echo "  RSS, $count recordings  idle $(mb "$rss0") MB, after 10 s $(mb "$rss1") MB, after $total requests $(mb "$rss2") MB, peak $(mb "$hwm2") MB (target <$TARGET_RSS_MB MB and flat over $LONG_REQUESTS): $(verdict "$(mb "$hwm2")" '<' $TARGET_RSS_MB)${capped:+ (long run stopped at the RSS cap)}"
echo "  start-up          ${start_ms} ms (target <$TARGET_START_MS ms): $(verdict "$start_ms" '<' $TARGET_START_MS)"
