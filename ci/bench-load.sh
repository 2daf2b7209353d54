#!/usr/bin/env bash
# Load benchmark of the emulator beside the official Pact stub server
# (ci/bench_load.py). Figures only; never fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
pact="$(bash ci/install-pact-cli.sh)"
[[ -x target/release/orchestrator-pact ]] || cargo build --release --quiet
python3 ci/bench_load.py target/release/orchestrator-pact "$pact" "${BENCH_SECONDS:-10}"
