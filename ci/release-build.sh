#!/usr/bin/env bash
# Builds the release binary for one Rust target, smoke-tests it where it can
# run (from an empty folder, `verify` with no flags must verify the built-in
# contract and exit 0), and packs it with its SHA-256 into dist/
# (ci/release-pack.sh: with the README, the guides, the man page and the
# shell completions):
#   dist/orchestrator-pact-VERSION-TARGET.tar.gz (.zip on Windows) and .sha256
# ci/github/release.yml runs it on each platform; it runs the same locally:
#   bash ci/release-build.sh x86_64-unknown-linux-gnu
# Variables: RELEASE_VERSION (default: the package's version).
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
target="${1:?usage: ci/release-build.sh TARGET, a Rust target triple such as x86_64-unknown-linux-gnu}"
version="${RELEASE_VERSION:-$(cargo pkgid --manifest-path provider/Cargo.toml | sed 's/.*[#@]//')}"
version="${version#v}"
exe=""
[[ "$target" == *windows* ]] && exe=".exe"

cargo build --release --locked --manifest-path provider/Cargo.toml --target "$target"
binary="$PWD/target/$target/release/orchestrator-pact$exe"

host="$(rustc -vV | sed -n 's/^host: //p')"
if [[ "$target" == "$host" ]]; then
  smoke="$(mktemp -d)"
  (cd "$smoke" && "$binary" --version && "$binary" verify)
  echo "smoke test: the $target binary verified its built-in contract from an empty folder"
  rm -rf "$smoke"
else
  echo "smoke test: skipped, $target does not run on this $host machine"
fi

# The man page and completions are printed by the binary; a cross-built
# one cannot run here, so a build for this machine prints them.
generator="$binary"
if [[ "$target" != "$host" ]]; then
  cargo build --release --locked --manifest-path provider/Cargo.toml
  generator="$PWD/target/release/orchestrator-pact"
fi
GENERATOR="$generator" bash ci/release-pack.sh "$binary" "$target" "$version"
