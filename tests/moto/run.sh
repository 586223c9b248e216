#!/usr/bin/env bash
# The worked example: starts moto_server on loopback, runs the ACM and SQS suites against it with
# the ledgers beside them (cases/acm/known-divergences.yaml, cases/sqs/known-divergences.yaml),
# stops moto. Exit 0 when every divergence moto shows is a known one. Extra arguments go to
# every `conform run` (e.g. --json report.json, --write-ledger FILE --force).
#   python3 -m pip install 'moto[server]'
#   tests/moto/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
trap 'tests/moto/stop.sh' EXIT
url=$(tests/moto/start.sh)
echo "moto_server at $url" >&2
status=0
for suite in cases/acm cases/sqs; do
    tests/moto/reset.sh "$url"
    # moto routes a request by the service in its signature's scope: sign, with fake
    # credentials (moto checks no signature; nothing leaves loopback).
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
        target/debug/conform run "$suite" --endpoint-url "$url" --sign --region us-east-1 \
        --jobs 1 "$@" || status=$?
done
exit "$status"
