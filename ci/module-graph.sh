#!/usr/bin/env bash
# Prints the top-level module graph of the command-line crate, one edge a
# line (`from -> to`), read from the `crate::` paths in `provider/src`
# (comments left out). `provider/tests/provider/layers.rs` checks the same
# graph for cycles and upward edges; this script is for reading it.
set -euo pipefail
cd "$(dirname "$0")/../provider/src"
find . -name '*.rs' ! -name lib.rs ! -name main.rs | sort | while read -r file; do
    from=${file#./}
    from=${from%%/*}
    from=${from%.rs}
    { sed -e 's://.*$::' "$file" | grep -o 'crate::[A-Za-z_][A-Za-z0-9_]*' || true; } | sed -e 's/^crate:://' |
        while read -r to; do
            if [ "$to" != "$from" ]; then echo "$from -> $to"; fi
        done
done | sort -u
