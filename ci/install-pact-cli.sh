#!/usr/bin/env bash
# Installs the official Pact CLI (npm @pact-foundation/pact-cli, a static
# binary with the verifier, stub server and broker client) into ci/.tools/,
# and prints the path of its `pact` binary.
set -euo pipefail
prefix_log="$(mktemp)"
cd "$(dirname "$0")"
tools="$PWD/.tools"
bin="$tools/node_modules/@pact-foundation/pact-cli-linux-x64/standalone/pact"
if [[ ! -x "$bin" ]]; then
  if ! command -v npm >/dev/null; then
    echo "npm is needed to install @pact-foundation/pact-cli" >&2
    exit 2
  fi
  mkdir -p "$tools"
  # The registry can fail for a moment: try three times, and show npm's
  # own words if it still fails.
  for attempt in 1 2 3; do
    if npm install --prefix "$tools" --no-audit --no-fund --loglevel=error @pact-foundation/pact-cli@18 >"$prefix_log" 2>&1; then
      break
    fi
    echo "npm install @pact-foundation/pact-cli@18 failed (attempt $attempt of 3):" >&2
    cat "$prefix_log" >&2
    [[ $attempt -lt 3 ]] && sleep $((attempt * 5))
  done
fi
if [[ ! -x "$bin" ]]; then
  # Other platforms ship under another package name.
  bin="$(find "$tools/node_modules/@pact-foundation" -path '*standalone/pact' -type f | head -1)"
fi
[[ -x "$bin" ]] || { echo "the Pact CLI binary was not found under $tools" >&2; exit 2; }
echo "$bin"
