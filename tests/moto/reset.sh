#!/usr/bin/env bash
# Empties moto's state (POST /moto-api/reset): every suite run starts from the same state, so
# its verdicts, and the ledger beside it, do not depend on what ran before.
#   tests/moto/reset.sh URL      (default: $CONFORM_MOTO_URL)
set -euo pipefail
url=${1:-${CONFORM_MOTO_URL:?give the moto URL or set CONFORM_MOTO_URL}}
curl -sf -o /dev/null -X POST "$url/moto-api/reset"
