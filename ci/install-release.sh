#!/usr/bin/env bash
# Downloads a released orchestrator-pact binary for this machine (Linux
# x86-64 or arm64, macOS, Windows x86-64 under Git Bash, as GitHub's
# Windows runners have it), checks its SHA-256 against the release's, unpacks
# it into DIR (default target/orchestrator-pact-VERSION, relative to the
# checkout) and prints the binary's absolute path: the fast way for a pipeline, instead of building from
# source. The gate scripts call it when ORCHESTRATOR_PACT_VERSION is set, and
# the GitHub Action (action.yml) to install the release it is tagged as.
#   ci/install-release.sh VERSION [DIR]
# ORCHESTRATOR_PACT_RELEASES: where releases are (default: the project's
# GitHub releases; a mirror has the same layout: vVERSION/ARCHIVE and
# vVERSION/ARCHIVE.sha256; curl reads file:// URLs too).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: ci/install-release.sh VERSION [DIR], such as 0.1.0}"
version="${version#v}"
dir="${2:-target/orchestrator-pact-$version}"
releases="${ORCHESTRATOR_PACT_RELEASES:-https://github.com/orchestrator-pact/orchestrator-pact/releases/download}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-gnu ;;
  Darwin-arm64) target=aarch64-apple-darwin ;;
  Darwin-x86_64) target=x86_64-apple-darwin ;;
  MINGW*-x86_64 | MSYS*-x86_64 | CYGWIN*-x86_64) target=x86_64-pc-windows-msvc ;;
  *)
    echo "error: no released binary for $(uname -s) $(uname -m): build from source (cargo install --locked --path provider)" >&2
    exit 2 ;;
esac
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
name="orchestrator-pact-$version-$target"
archive="$name.tar.gz"
binary="$dir/$name/orchestrator-pact"
if [[ "$target" == *windows* ]]; then
  archive="$name.zip"
  binary="$binary.exe"
fi
if [[ ! -x "$binary" ]]; then
  for file in "$archive" "$archive.sha256"; do
    curl --fail --silent --show-error --location --retry 3 -o "$dir/$file" "$releases/v$version/$file" || {
      echo "error: could not download $releases/v$version/$file: check that $version names a release (ORCHESTRATOR_PACT_VERSION, or the action's version input) and that ORCHESTRATOR_PACT_RELEASES ($releases) holds it" >&2
      exit 2
    }
  done
  if command -v sha256sum >/dev/null; then check=(sha256sum -c --quiet); else check=(shasum -a 256 -c --quiet); fi
  (cd "$dir" && "${check[@]}" "$archive.sha256") >&2 || {
    echo "error: $archive does not match its published SHA-256: not unpacked" >&2
    exit 2
  }
  if [[ "$archive" == *.zip ]]; then
    (cd "$dir" && { command -v unzip >/dev/null && unzip -q -o "$archive" || 7z x -y -bso0 "$archive"; })
  else
    tar -C "$dir" -xzf "$dir/$archive"
  fi
fi
echo "$binary"
