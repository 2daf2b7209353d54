#!/usr/bin/env bash
# Packs a built orchestrator-pact binary as a release archive, with what a
# user installs beside it: the README and its guides (docs/), the licence,
# the man page (man/orchestrator-pact.1) and the shell completions
# (complete/: bash, zsh, fish, PowerShell), the last two printed by
# `orchestrator-pact generate`. Writes DIST/NAME.tar.gz (.zip for Windows)
# and DIST/NAME.tar.gz.sha256 in sha256sum's format, where NAME is
# orchestrator-pact-VERSION-TARGET, the name ci/install-release.sh and the
# GitHub Action (action.yml) download.
#   ci/release-pack.sh BINARY TARGET VERSION
# Variables: DIST_DIR (default dist); GENERATOR, a binary that runs on this
# machine to print the man page and completions (default BINARY; for a
# cross-built BINARY, a build for this machine).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:?usage: ci/release-pack.sh BINARY TARGET VERSION}"
target="${2:?usage: ci/release-pack.sh BINARY TARGET VERSION}"
version="${3:?usage: ci/release-pack.sh BINARY TARGET VERSION}"
version="${version#v}"
generator="${GENERATOR:-$binary}"
dist="${DIST_DIR:-dist}"
exe=""
[[ "$target" == *windows* ]] && exe=".exe"

name="orchestrator-pact-$version-$target"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
stage="$scratch/$name"
mkdir -p "$stage/man" "$stage/complete" "$dist"
dist="$(cd "$dist" && pwd)"
cp "$binary" "$stage/orchestrator-pact$exe"
cp README.md LICENSE "$stage/"
cp -R docs "$stage/docs"
"$generator" generate man > "$stage/man/orchestrator-pact.1"
"$generator" generate complete-bash > "$stage/complete/orchestrator-pact.bash"
"$generator" generate complete-zsh > "$stage/complete/_orchestrator-pact"
"$generator" generate complete-fish > "$stage/complete/orchestrator-pact.fish"
"$generator" generate complete-powershell > "$stage/complete/_orchestrator-pact.ps1"

if [[ -n "$exe" ]]; then
  archive="$name.zip"
  rm -f "$dist/$archive"
  (cd "$scratch" && 7z a -tzip -bso0 "$dist/$archive" "$name" >/dev/null)
else
  archive="$name.tar.gz"
  tar -C "$scratch" -czf "$dist/$archive" "$name"
fi
# sha256sum's format, which `sha256sum -c` (and `shasum -a 256 -c`) checks.
if command -v sha256sum >/dev/null; then
  (cd "$dist" && sha256sum "$archive") > "$dist/$archive.sha256"
else
  (cd "$dist" && shasum -a 256 "$archive") > "$dist/$archive.sha256"
fi
cat "$dist/$archive.sha256"
