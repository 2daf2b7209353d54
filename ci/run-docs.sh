#!/usr/bin/env bash
# Runs the commands the README and the guides (docs/) show, compares the
# sample outputs they show with what the tool prints, checks the action
# examples' inputs and every relative link (ci/run_docs.py; how to mark a
# block is in docs/building.md, "How the guides are checked"). Tenants and
# brokers are local doubles: `serve`, and the tests' broker double
# (provider/examples/broker-double.rs).
# ORCHESTRATOR_PACT: the binary (default target/release, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
[[ -n "${ORCHESTRATOR_PACT:-}" || -x target/release/orchestrator-pact ]] || cargo build --release --quiet
cargo build --quiet --example broker-double
exec python3 ci/run_docs.py --binary "${ORCHESTRATOR_PACT:-target/release/orchestrator-pact}" \
    --broker-double target/debug/examples/broker-double "$@"
