#!/usr/bin/env bash
# Prints the scale benchmark (ci/bench_scale.py): `verify` on 5, 50 and 500
# interactions beside the official Pact verifier, and against a tenant
# double with 100 ms latency. Figures only; never fails on speed.
# ORCHESTRATOR_PACT=path measures another build (e.g. a baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
pact="$(bash ci/install-pact-cli.sh)"
ours="${ORCHESTRATOR_PACT:-target/release/orchestrator-pact}"
if [[ -z "${ORCHESTRATOR_PACT:-}" ]]; then cargo build --release --quiet; fi
python3 ci/bench_scale.py "$ours" "$pact" "${BENCH_SCALE_SIZES:-5,50,500}"
