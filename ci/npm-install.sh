#!/usr/bin/env bash
# Installs npm packages into a folder of ci/.tools/. The registry can fail for
# a moment, so it tries three times and shows npm's own words after each
# failed attempt. Exit 2 when npm is missing or every attempt failed.
#
# Usage: ci/npm-install.sh PREFIX [NPM-INSTALL-FLAGS...] PACKAGE@VERSION
set -euo pipefail
prefix="$1"
shift
package="${!#}"
if ! command -v npm >/dev/null; then
  echo "npm is needed to install $package" >&2
  exit 2
fi
mkdir -p "$prefix"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for attempt in 1 2 3; do
  if npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$@" >"$log" 2>&1; then
    exit 0
  fi
  echo "npm install $package failed (attempt $attempt of 3):" >&2
  cat "$log" >&2
  [[ $attempt -lt 3 ]] && sleep $((attempt * 5))
done
exit 2
