#!/usr/bin/env bash
# Fails when the committed broker-pacts/ differ from what the broker client's
# pact tests record now: the client's use of the broker changed and
# broker-pacts/ was not regenerated (ci/record-broker-pacts.sh). Records
# twice, so that a recording that is not deterministic fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
first="$(mktemp -d)"
second="$(mktemp -d)"
trap 'rm -rf "$first" "$second"' EXIT
BROKER_PACT_OUTPUT_DIR="$first" cargo test --quiet -p provider --test provider broker_pacts::
BROKER_PACT_OUTPUT_DIR="$second" cargo test --quiet -p provider --test provider broker_pacts::
if ! diff -ru "$first" "$second"; then
  echo "broker pact drift check FAILED: two recordings differ (above): the recording is not deterministic." >&2
  exit 1
fi
if diff -ru broker-pacts "$first"; then
  echo "broker pact drift check: broker-pacts/ is what the broker client's pact tests record"
else
  echo "broker pact drift check FAILED: broker-pacts/ differs from a fresh recording (above)." >&2
  echo "Run ci/record-broker-pacts.sh and commit broker-pacts/." >&2
  exit 1
fi
