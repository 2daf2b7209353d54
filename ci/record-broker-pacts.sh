#!/usr/bin/env bash
# Records the broker client's own contract (consumer orchestrator-pact,
# provider Pact Broker) from a clean state into broker-pacts/. Run it after
# changing provider/tests/provider/broker_pacts.rs, then commit broker-pacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
BROKER_PACT_OUTPUT_DIR="$out" cargo test --quiet -p provider --test provider broker_pacts::
mkdir -p broker-pacts
rm -f broker-pacts/*.json
cp "$out"/*.json broker-pacts/
echo "recorded: $(ls broker-pacts/*.json | tr '\n' ' ')"
