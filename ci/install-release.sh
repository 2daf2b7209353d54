#!/usr/bin/env bash
# Downloads a released orchestrator-pact binary for this machine (Linux
# x86-64 or arm64, macOS), checks its SHA-256 against the release's, unpacks
# it into DIR (default target/orchestrator-pact-VERSION, relative to the
# checkout) and prints the binary's absolute path: the fast way for a pipeline, instead of building from
# source. The gate scripts call it when ORCHESTRATOR_PACT_VERSION is set.
#   ci/install-release.sh VERSION [DIR]
# ORCHESTRATOR_PACT_RELEASES: where releases are (default: the project's
# GitHub releases; a mirror has the same layout).
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
  *)
    echo "error: no released binary for $(uname -s) $(uname -m): build from source (cargo install --locked --path provider)" >&2
    exit 2 ;;
esac
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
name="orchestrator-pact-$version-$target"
binary="$dir/$name/orchestrator-pact"
if [[ ! -x "$binary" ]]; then
  for file in "$name.tar.gz" "$name.tar.gz.sha256"; do
    curl --fail --silent --show-error --location --retry 3 -o "$dir/$file" "$releases/v$version/$file" || {
      echo "error: could not download $releases/v$version/$file: check ORCHESTRATOR_PACT_VERSION ($version) names a release" >&2
      exit 2
    }
  done
  if command -v sha256sum >/dev/null; then check=(sha256sum -c --quiet); else check=(shasum -a 256 -c --quiet); fi
  (cd "$dir" && "${check[@]}" "$name.tar.gz.sha256") >&2 || {
    echo "error: $name.tar.gz does not match its published SHA-256: not unpacked" >&2
    exit 2
  }
  tar -C "$dir" -xzf "$dir/$name.tar.gz"
fi
echo "$binary"
