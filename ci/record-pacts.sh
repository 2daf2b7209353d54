#!/usr/bin/env bash
# Records the consumer's contract from a clean state into pacts/.
# Run it after changing consumer/tests, then commit pacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
PACT_OUTPUT_DIR="$out" cargo test --quiet -p consumer --test consumer contract::
rm -f pacts/*.json
cp "$out"/*.json pacts/
echo "recorded: $(ls pacts/*.json | tr '\n' ' ')"
