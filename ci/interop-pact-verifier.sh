#!/usr/bin/env bash
# Interoperability: the official Pact verifier verifies pacts/ against
# `orchestrator-pact serve` started with no flags, through its provider-state
# URL and with no credentials of its own (it sends the pact's example token).
# Control runs against emulators that break the contract must fail, so that
# this check can go red: one answers a wrong old password with success, one
# renames the error codes the pacts pin (PasswordMismatch, PasswordTooShort).
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
pact="$(bash ci/install-pact-cli.sh)"
source ci/serve-emulator.sh
[[ -x "$ORCHESTRATOR_PACT" ]] || cargo build --release --quiet

pact_files=()
for f in pacts/*.json; do pact_files+=(--file "$f"); done

verify_with_pact_cli() {
  "$pact" verifier --no-colour --loglevel warn \
    "${pact_files[@]}" --hostname 127.0.0.1 --port "$EMULATOR_PORT" \
    --state-change-url "$EMULATOR_URL/_pact/provider-states" --state-change-teardown
}

start_emulator
echo "== official Pact verifier against orchestrator-pact serve ($EMULATOR_URL)"
if verify_with_pact_cli; then
  echo "interop: the official Pact verifier verified pacts/ against the emulator"
else
  echo "interop FAILED: the official Pact verifier did not verify pacts/ against the emulator" >&2
  exit 1
fi

start_emulator --deviate wrong-password-succeeds
echo "== control: the same against an emulator that breaks the contract"
if verify_with_pact_cli >/dev/null 2>&1; then
  echo "interop FAILED: the official verifier passed an emulator that breaks the contract" >&2
  exit 1
fi
echo "interop: the control run failed, as it must"

start_emulator --deviate renamed-error-codes
echo "== control: the same against an emulator that renames the pinned error codes"
if verify_with_pact_cli >/dev/null 2>&1; then
  echo "interop FAILED: the official verifier passed an emulator that renames the pinned codes" >&2
  exit 1
fi
echo "interop: the renamed-codes control run failed, as it must"
