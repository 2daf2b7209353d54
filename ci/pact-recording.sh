#!/usr/bin/env bash
# Records a pact set from a clean state, then writes it into its folder
# (record) or fails when the committed folder differs from it (check).
# Checking records twice, so that a recording that is not deterministic fails
# too. ci/record-pacts.sh, ci/check-pact-drift.sh, ci/record-broker-pacts.sh
# and ci/check-broker-pact-drift.sh are this script with their set.
#
# Usage: ci/pact-recording.sh record|check tenant|broker
#   tenant: pacts/, the tenant contract the consumer tests record
#   broker: broker-pacts/, the broker client's own contract
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true

usage() {
  echo "usage: ci/pact-recording.sh record|check tenant|broker" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
mode="$1"
case "$2" in
  tenant)
    folder=pacts variable=PACT_OUTPUT_DIR who="the consumer tests"
    check_name="pact drift check" record_script=ci/record-pacts.sh
    tests=(-p uipath-identity-client --test consumer contract::)
    ;;
  broker)
    folder=broker-pacts variable=BROKER_PACT_OUTPUT_DIR who="the broker client's pact tests"
    check_name="broker pact drift check" record_script=ci/record-broker-pacts.sh
    tests=(-p orchestrator-pact --test provider broker_pacts::)
    ;;
  *) usage ;;
esac

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# record DIR: the set's tests write a fresh recording into DIR.
record() {
  mkdir -p "$1"
  env "$variable=$1" cargo test --quiet "${tests[@]}"
}

case "$mode" in
  record)
    record "$scratch/pacts"
    mkdir -p "$folder"
    rm -f "$folder"/*.json
    cp "$scratch/pacts"/*.json "$folder/"
    echo "recorded: $(ls "$folder"/*.json | tr '\n' ' ')"
    ;;
  check)
    record "$scratch/first"
    record "$scratch/second"
    if ! diff -ru "$scratch/first" "$scratch/second"; then
      echo "$check_name FAILED: two recordings differ (above): the recording is not deterministic." >&2
      exit 1
    fi
    if diff -ru "$folder" "$scratch/first"; then
      echo "$check_name: $folder/ is what $who record"
    else
      echo "$check_name FAILED: $folder/ differs from a fresh recording (above)." >&2
      echo "Run $record_script and commit $folder/." >&2
      exit 1
    fi
    ;;
  *) usage ;;
esac
