#!/usr/bin/env bash
# Real SDKs other than Rust's against the replay server (the Rust SDK runs in cargo test, in
# tests/it/sdk.rs): boto3 and aws-sdk-js v3. Needs python3 with boto3 and PyYAML
# (pip install boto3 pyyaml) and node with npm (the script runs npm install here).
# Starts `conform serve` on a free loopback port, runs the checks, runs them again through
# tests/sdks/harmless_proxy.py, stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --bin conform
out=$(mktemp)
"${CARGO_TARGET_DIR:-target}/debug/conform" serve --addr 127.0.0.1:0 --recordings recordings >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q '^listening on' "$out" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$out")
[[ -n $url ]] || { echo "tests/sdks/check.sh: conform serve did not start" >&2; exit 1; }
python3 tests/sdks/boto3_check.py "$url"
python3 tests/sdks/boto3_all_check.py "$url"
(cd tests/sdks && npm install --silent --no-audit --no-fund >/dev/null)
node tests/sdks/js_check.mjs "$url"
node tests/sdks/js_all_check.mjs "$url"

# A second time through a proxy that adds harmless differences to every response (a charset,
# an extra member, reversed keys and pretty spacing, capital header names, other request ids):
# the clients must parse the same results (cases/FORMAT.md, "Harmless differences").
proxy_out=$(mktemp)
python3 tests/sdks/harmless_proxy.py "$url" >"$proxy_out" 2>/dev/null &
proxy_pid=$!
trap 'kill $pid $proxy_pid 2>/dev/null || true; rm -f "$out" "$proxy_out"' EXIT
for _ in $(seq 100); do grep -q '^listening on' "$proxy_out" && break; sleep 0.05; done
proxy_url=$(sed -n 's/^listening on //p' "$proxy_out")
[[ -n $proxy_url ]] || { echo "tests/sdks/check.sh: the harmless proxy did not start" >&2; exit 1; }
echo "through the harmless proxy:"
python3 tests/sdks/boto3_check.py "$proxy_url"
node tests/sdks/js_check.mjs "$proxy_url"
