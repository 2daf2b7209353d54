#!/usr/bin/env bash
# Installs the official Pact CLI (npm @pact-foundation/pact-cli, a static
# binary with the verifier, stub server and broker client) into ci/.tools/,
# and prints the path of its `pact` binary.
set -euo pipefail
cd "$(dirname "$0")"
tools="$PWD/.tools"
bin="$tools/node_modules/@pact-foundation/pact-cli-linux-x64/standalone/pact"
if [[ ! -x "$bin" ]]; then
  bash npm-install.sh "$tools" @pact-foundation/pact-cli@18
fi
if [[ ! -x "$bin" ]]; then
  # Other platforms ship under another package name.
  bin="$(find "$tools/node_modules/@pact-foundation" -path '*standalone/pact' -type f | head -1)"
fi
[[ -x "$bin" ]] || { echo "the Pact CLI binary was not found under $tools" >&2; exit 2; }
echo "$bin"
