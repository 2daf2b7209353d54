#!/usr/bin/env bash
# A dry path of the GitHub Action (action.yml), run by ci/run_action.py as
# GitHub's runner runs a composite action, with a locally built binary
# standing in for the download: it is packed as a release archive with its
# SHA-256 (ci/release-pack.sh, as the release workflow packs it) into a
# local mirror (the action's releases-url input, a file:// URL), so the
# install step downloads, checks and unpacks it as it would a release.
#
#   1. verify against the embedded emulator, the version taken from the
#      action's tag: exit 0, the job summary and the reports written;
#   2. verify a local tenant (`serve`) that breaks the contract, with client
#      credentials from the inputs: the step fails with exit 1, and the
#      secret appears nowhere (output, summary, reports);
#   3. an archive that does not match its SHA-256: the step fails (exit 2)
#      and nothing is run;
#   4. the action used at a branch, with no version input: exit 2, naming
#      the version input;
#   5. another command (check-spec) with extra arguments: exit 0, and a line
#      in the job summary.
# ORCHESTRATOR_PACT: the binary (default: target/release, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
source ci/python-venv.sh
python3 -c 'import yaml' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyyaml
[[ -n "${ORCHESTRATOR_PACT:-}" || -x target/release/orchestrator-pact ]] || cargo build --release --quiet
ORCHESTRATOR_PACT="$(realpath "${ORCHESTRATOR_PACT:-target/release/orchestrator-pact}")"
source ci/serve-emulator.sh

work="$(mktemp -d)"
trap 'rm -rf "$work"; stop_emulators' EXIT
version="$("$ORCHESTRATOR_PACT" --version | awk '{print $2}')"
target="$(rustc -vV | sed -n 's/^host: //p')"
DIST_DIR="$work/releases/v$version" bash ci/release-pack.sh "$ORCHESTRATOR_PACT" "$target" "$version" >/dev/null
archive="$work/releases/v$version/orchestrator-pact-$version-$target.tar.gz"
contents="$(tar -tzf "$archive")"
for file in orchestrator-pact README.md docs/ci.md man/orchestrator-pact.1 complete/orchestrator-pact.bash \
    complete/_orchestrator-pact complete/orchestrator-pact.fish complete/_orchestrator-pact.ps1; do
  grep -qx "orchestrator-pact-$version-$target/$file" <<< "$contents" ||
    { echo "action dry run FAILED: the release archive lacks $file" >&2; exit 1; }
done

fail() { echo "action dry run FAILED: $*" >&2; exit 1; }
# run_action NAME [--action-ref REF] [--input NAME=VALUE]...: runs the action
# from an empty workspace; sets STATUS, OUT (stdout and stderr) and SUMMARY.
run_action() {
  local name="$1"
  shift
  local workspace="$work/$name"
  mkdir -p "$workspace"
  SUMMARY="$workspace.summary.md"
  STATUS=0
  python3 ci/run_action.py action.yml --workspace "$workspace" --summary "$SUMMARY" \
      --input "releases-url=file://$work/releases" "$@" >"$workspace.out" 2>&1 || STATUS=$?
  OUT="$(cat "$workspace.out")"
  echo "--- $name: exit $STATUS"
}

# 1. The embedded emulator; the version is the action's tag.
run_action embedded --action-ref "v$version" --input reports=reports
[[ $STATUS -eq 0 ]] || fail "embedded: exit $STATUS, expected 0: $OUT"
[[ "$OUT" == *"orchestrator-pact $version"* ]] || fail "embedded: the installed binary did not run: $OUT"
[[ "$OUT" == *"5 interactions: 5 verified"* ]] || fail "embedded: no verdict: $OUT"
[[ "$OUT" == *"output exit-code=0"* ]] || fail "embedded: the exit-code output is not 0: $OUT"
[[ "$OUT" == *"output binary=$work"* || "$OUT" == *"output binary=/"* ]] || fail "embedded: no binary output: $OUT"
grep -q "a request to change the password" "$SUMMARY" || fail "embedded: the job summary has no table: $(cat "$SUMMARY")"
for report in contract-junit.xml contract.json contract-summary.md; do
  [[ -s "$work/embedded/reports/$report" ]] || fail "embedded: no reports/$report"
done

# 2. A tenant that breaks the contract, with client credentials.
secret="dry-run-Secret-$RANDOM$RANDOM"
org=11111111-2222-3333-4444-555555555555
start_emulator --port 0 --client "gate-app:$secret" --organization-id "$org" --deviate wrong-password-succeeds
run_action broken --action-ref "v$version" --input reports=reports \
    --input "base-url=$EMULATOR_URL/myorg/mytenant/" --input "organization-id=$org" \
    --input client-id=gate-app --input "client-secret=$secret"
emulator_still_ours
[[ $STATUS -eq 1 ]] || fail "broken tenant: exit $STATUS, expected 1: $OUT"
[[ "$OUT" == *"FAILED  a request to change the password with a wrong old password"* ]] || fail "broken tenant: no FAILED line: $OUT"
[[ "$OUT" == *"output exit-code=1"* ]] || fail "broken tenant: the exit-code output is not 1: $OUT"
grep -q "FAILED\|failed" "$SUMMARY" || fail "broken tenant: the job summary does not show the failure"
if grep -rqF "$secret" "$work/broken.out" "$SUMMARY" "$work/broken/reports"; then
  fail "broken tenant: the client secret was printed"
fi

# 3. An archive that does not match its SHA-256.
cp -R "$work/releases" "$work/tampered"
printf 'x' >> "$work/tampered/v$version/$(basename "$archive")"
run_action tampered --action-ref "v$version" --input "releases-url=file://$work/tampered"
[[ $STATUS -eq 2 ]] || fail "tampered archive: exit $STATUS, expected 2: $OUT"
[[ "$OUT" == *"does not match its published SHA-256"* ]] || fail "tampered archive: no checksum error: $OUT"
[[ "$OUT" != *"interactions"* ]] || fail "tampered archive: the command ran: $OUT"

# 4. Used at a branch, without a version.
run_action branch --action-ref main
[[ $STATUS -eq 2 ]] || fail "branch ref: exit $STATUS, expected 2: $OUT"
[[ "$OUT" == *"set the version input"* ]] || fail "branch ref: the error does not name the version input: $OUT"

# 5. Another command, with extra arguments; the version as an input.
run_action check-spec --action-ref main --input "version=$version" --input command=check-spec \
    --input "args=--spec $PWD/provider/tests/fixtures/spec/identity-users-openapi-3.0.yaml"
[[ $STATUS -eq 0 ]] || fail "check-spec: exit $STATUS, expected 0: $OUT"
grep -q "orchestrator-pact check-spec\*\* exited 0" "$SUMMARY" || fail "check-spec: no line in the job summary: $(cat "$SUMMARY")"

echo "action dry run: 5 paths as expected (installed from a local mirror, checksum checked, exit codes 0, 1, 2, 2, 0; no secret printed)"
