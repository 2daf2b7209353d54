#!/usr/bin/env bash
# Installs PactFlow's swagger-mock-validator (npm
# @pactflow/swagger-mock-validator, the checker behind PactFlow's
# bi-directional contract testing) into ci/.tools/swagger-mock-validator/,
# and prints the folder it is in (its CLI is node_modules/.bin/ there).
set -euo pipefail
prefix_log="$(mktemp)"
cd "$(dirname "$0")"
prefix="$PWD/.tools/swagger-mock-validator"
bin="$prefix/node_modules/.bin/swagger-mock-validator"
if [[ ! -x "$bin" ]]; then
  if ! command -v npm >/dev/null; then
    echo "npm is needed to install @pactflow/swagger-mock-validator" >&2
    exit 2
  fi
  mkdir -p "$prefix"
  # The registry can fail for a moment: try three times, and show npm's
  # own words if it still fails.
  for attempt in 1 2 3; do
    # Its own postinstall (patch-package, run inside the package) looks for
    # ajv where npm does not put it when it is a dependency: install without
    # scripts, then apply its patch to ajv from the prefix, where ajv is.
    if npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error --ignore-scripts @pactflow/swagger-mock-validator@14 >"$prefix_log" 2>&1 \
      && (cd "$prefix" && node_modules/.bin/patch-package --patch-dir node_modules/@pactflow/swagger-mock-validator/patches) >>"$prefix_log" 2>&1; then
      break
    fi
    echo "npm install @pactflow/swagger-mock-validator@14 failed (attempt $attempt of 3):" >&2
    cat "$prefix_log" >&2
    [[ $attempt -lt 3 ]] && sleep $((attempt * 5))
  done
fi
[[ -x "$bin" ]] || { echo "swagger-mock-validator was not found under $prefix" >&2; exit 2; }
echo "$prefix"
