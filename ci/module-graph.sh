#!/usr/bin/env bash
# Prints the top-level module graph of the command-line crate, one edge a
# line (`from -> to`), as `provider/tests/provider/layers.rs` reads it from
# `provider/src` (grouped `use crate::{…}` imports, `crate::x::y` paths in
# code, `super::` climbing to the root; comments and strings left out) and
# checks it for upward edges and cycles. One parser, the test's, so that
# what this prints is what the test checks. Paths into the client and the
# emulator crates are no edges: the compiler keeps their direction.
# `--places` also prints where each edge is first made.
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
graph="$(cargo test --quiet -p orchestrator-pact --test provider layers::print -- --ignored --nocapture 2>/dev/null |
    grep -E '^[a-z_]+ -> [a-z_]+ ')"
if [[ "${1:-}" == "--places" ]]; then
    echo "$graph"
else
    echo "$graph" | sed -e 's/ *(.*)$//'
fi
