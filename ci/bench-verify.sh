#!/usr/bin/env bash
# Prints the verify benchmark (ci/bench_verify.py): ours beside the official
# Pact verifier. Figures only; never fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
pact="$(bash ci/install-pact-cli.sh)"
[[ -x target/release/orchestrator-pact ]] || cargo build --release --quiet
python3 ci/bench_verify.py target/release/orchestrator-pact "$pact" "${BENCH_RUNS:-21}"
