#!/usr/bin/env bash
# Fails when the committed pacts/ differ from what the consumer tests record
# now: the contract changed and pacts/ was not regenerated (ci/record-pacts.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
PACT_OUTPUT_DIR="$out" cargo test --quiet -p consumer --test consumer contract::
if diff -ru pacts "$out"; then
  echo "pact drift check: pacts/ is what the consumer tests record"
else
  echo "pact drift check FAILED: pacts/ differs from a fresh recording (above)." >&2
  echo "Run ci/record-pacts.sh and commit pacts/." >&2
  exit 1
fi
