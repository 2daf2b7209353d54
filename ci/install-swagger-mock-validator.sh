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
  if ! command -v npm >/dev/null; then
    echo "npm is needed to install @pactflow/swagger-mock-validator" >&2
    exit 2
  fi
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --silent @pactflow/swagger-mock-validator@14 >&2
fi
[[ -x "$bin" ]] || { echo "swagger-mock-validator was not found under $prefix" >&2; exit 2; }
echo "$prefix"
