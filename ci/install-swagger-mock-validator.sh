#!/usr/bin/env bash
# Installs PactFlow's swagger-mock-validator (npm
# @pactflow/swagger-mock-validator, the checker behind PactFlow's
# bi-directional contract testing) into ci/.tools/swagger-mock-validator/,
# and prints the folder it is in (its CLI is node_modules/.bin/ there).
set -euo pipefail
cd "$(dirname "$0")"
prefix="$PWD/.tools/swagger-mock-validator"
bin="$prefix/node_modules/.bin/swagger-mock-validator"
if [[ ! -x "$bin" ]]; then
  # Its own postinstall (patch-package, run inside the package) looks for
  # ajv where npm does not put it when it is a dependency: install without
  # scripts, then apply its patch to ajv from the prefix, where ajv is.
  bash npm-install.sh "$prefix" --ignore-scripts @pactflow/swagger-mock-validator@14
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! (cd "$prefix" && node_modules/.bin/patch-package --patch-dir node_modules/@pactflow/swagger-mock-validator/patches) >"$log" 2>&1; then
    echo "applying swagger-mock-validator's patch to ajv failed:" >&2
    cat "$log" >&2
    rm -f "$bin"
    exit 2
  fi
fi
[[ -x "$bin" ]] || { echo "swagger-mock-validator was not found under $prefix" >&2; exit 2; }
echo "$prefix"
