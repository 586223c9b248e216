#!/usr/bin/env bash
# Renders a `conform compare --html` report in headless Chromium and saves a screenshot, to
# check by eye that the page reads at a glance (never part of `cargo test`: CI has no browser).
#
#   bench/html-screenshot.sh fidelity.html [/tmp/compare.png] [1200,1600]
#
# Chromium is the Debian package (`apt-get install -y chromium`). The flags keep it from
# reaching the network: the report must render from the file alone.
set -euo pipefail
report=${1:?usage: $0 REPORT.html [OUT.png] [WIDTH,HEIGHT]}
out=${2:-/tmp/compare.png}
size=${3:-1200,1600}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --screenshot="$out" --window-size="$size" "file://$(realpath "$report")"
echo "$out"
