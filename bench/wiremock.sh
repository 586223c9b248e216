#!/usr/bin/env bash
# conform serve against WireMock standalone, serving the same documented exchange, loaded the
# same way on the same machine in one run (issue #7). WireMock's jar comes from the `wiremock`
# npm package and runs on the machine's Java 17. Each server gets a warm-up (the JVM's JIT needs
# it) before the measured runs; figures are medians of RUNS runs and are printed as ratios
# conform/WireMock. A benchmark, not a test: it prints figures and exits 0.
#
# Usage: bench/wiremock.sh   (needs wrk: apt-get install -y wrk; npm and java on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONFORM_BIN:-$ROOT/target/release/conform}
DURATION=${CONFORM_BENCH_DURATION:-10}
WARMUP=${CONFORM_BENCH_WARMUP:-15}
RUNS=${CONFORM_BENCH_RUNS:-3}
THREADS=${CONFORM_BENCH_THREADS:-2}
CONNECTIONS=${CONFORM_BENCH_CONNECTIONS:-64}
STARTS=${CONFORM_BENCH_STARTS:-5}
WIREMOCK_VERSION=${WIREMOCK_VERSION:-3.13.2}

command -v wrk >/dev/null || { echo "bench/wiremock.sh: wrk not found (apt-get install -y wrk)" >&2; exit 2; }
command -v java >/dev/null || { echo "bench/wiremock.sh: java not found" >&2; exit 2; }
[[ -n ${CONFORM_BENCH_NO_BUILD:-} ]] || cargo build --release --bin conform >&2

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$WORK" && npm install --silent --no-audit --no-fund "wiremock@$WIREMOCK_VERSION" >/dev/null)
JAR=$(find "$WORK/node_modules/wiremock" -name 'wiremock-standalone-*.jar' | head -1)
[[ -n $JAR ]] || { echo "bench/wiremock.sh: no jar in the wiremock npm package" >&2; exit 2; }

TEMPLATE_ARN='arn:aws:inspector:us-west-2:123456789012:target/0-nvgVhaxX/template/0-it5r2S4T'
BODY="{\"assessmentRunName\":\"examplerun\",\"assessmentTemplateArn\":\"$TEMPLATE_ARN\"}"
RESPONSE="{\"assessmentRunArn\":\"$TEMPLATE_ARN/run/0-jOoroxyY\"}"

# WireMock: the same exchange as recordings/.../documented_sample_exchange.yaml, matched the same
# way (method, path, X-Amz-Target, Content-Type, body as a JSON value).
mkdir -p "$WORK/wm/mappings"
cat > "$WORK/wm/mappings/sample.json" <<JSON
{
  "request": {
    "method": "POST", "url": "/",
    "headers": {
      "X-Amz-Target": { "equalTo": "InspectorService.StartAssessmentRun" },
      "Content-Type": { "equalTo": "application/x-amz-json-1.1" }
    },
    "bodyPatterns": [ { "equalToJson": $BODY } ]
  },
  "response": {
    "status": 200,
    "headers": {
      "x-amzn-RequestId": "ed349455-f76d-11e5-b473-ed8493878c40",
      "Content-Type": "application/x-amz-json-1.1"
    },
    "body": $(printf '%s' "$RESPONSE" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
  }
}
JSON

cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "InspectorService.StartAssessmentRun"
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
answers() { curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$1/" \
    -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: InspectorService.StartAssessmentRun' \
    --data "$BODY" 2>/dev/null | grep -q 200; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

start_conform() { "$BIN" serve --recordings "$ROOT/recordings" --addr "127.0.0.1:$1" >/dev/null 2>&1 & echo $!; }
start_wiremock() {
    # No request journal: like conform, WireMock then keeps nothing per request.
    java -jar "$JAR" --port "$1" --root-dir "$WORK/wm" --no-request-journal --disable-banner \
        >"$WORK/wiremock.log" 2>&1 & echo $!
}

# Waits until the server answers the sample rightly; gives up after 60 s or if it died.
wait_for() {
    local deadline=$(( $(now_ms) + 60000 ))
    until answers "$2"; do
        if ! kill -0 "$3" 2>/dev/null || (( $(now_ms) > deadline )); then
            echo "bench/wiremock.sh: $1 did not answer the sample request" >&2
            [[ $1 != wiremock ]] || tail -20 "$WORK/wiremock.log" >&2
            exit 1
        fi
        sleep 0.005
    done
}

# Start-up: spawn to first correct answer, median of STARTS.
startup() {
    local kind=$1 times=()
    for _ in $(seq "$STARTS"); do
        local port; port=$(free_port)
        local t0; t0=$(now_ms)
        local pid; pid=$("start_$kind" "$port")
        wait_for "$kind" "$port" "$pid"
        times+=($(( $(now_ms) - t0 )))
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
    printf '%s\n' "${times[@]}" | median
}

# Load: RUNS runs of DURATION seconds after WARMUP seconds; prints "rps p50_ms p99_ms rss_mb hwm_mb".
load() {
    local kind=$1 port; port=$(free_port)
    local pid; pid=$("start_$kind" "$port"); PIDS+=("$pid")
    wait_for "$kind" "$port" "$pid"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WORK/post.lua" "http://127.0.0.1:$port/" >/dev/null
    local rps=() p50=() p99=()
    for _ in $(seq "$RUNS"); do
        local out; out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$port/")
        if grep -q 'Non-2xx' <<<"$out"; then echo "bench/wiremock.sh: $kind answered non-2xx:" >&2; echo "$out" >&2; fi
        rps+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
        p50+=("$(awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) sub("ms","",v); else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' <<<"$out")")
        p99+=("$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) sub("ms","",v); else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' <<<"$out")")
    done
    echo "$(printf '%s\n' "${rps[@]}" | median) $(printf '%s\n' "${p50[@]}" | median) $(printf '%s\n' "${p99[@]}" | median) $(rss_mb "$pid") $(hwm_mb "$pid")"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up, median of $RUNS x ${DURATION}s; client and server share the cores"
echo "WireMock $WIREMOCK_VERSION ($(java -version 2>&1 | head -1)); conform $("$BIN" --version | awk '{print $2}')"
cs=$(startup conform); ws=$(startup wiremock)
read -r crps cp50 cp99 crss chwm < <(load conform)
read -r wrps wp50 wp99 wrss whwm < <(load wiremock)
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
printf '%-22s %12s %12s %10s\n' "" conform WireMock "conform/WireMock"
printf '%-22s %12s %12s %10s\n' "requests/s (median)" "$crps" "$wrps" "$(ratio "$crps" "$wrps")"
printf '%-22s %12s %12s %10s\n' "p50 latency ms" "$cp50" "$wp50" "$(ratio "$cp50" "$wp50")"
printf '%-22s %12s %12s %10s\n' "p99 latency ms" "$cp99" "$wp99" "$(ratio "$cp99" "$wp99")"
printf '%-22s %12s %12s %10s\n' "RSS after load MB" "$crss" "$wrss" "$(ratio "$crss" "$wrss")"
printf '%-22s %12s %12s %10s\n' "peak RSS MB" "$chwm" "$whwm" "$(ratio "$chwm" "$whwm")"
printf '%-22s %12s %12s %10s\n' "start-up ms (median)" "$cs" "$ws" "$(ratio "$cs" "$ws")"
