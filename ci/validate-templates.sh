#!/usr/bin/env bash
# Validates every CI template against its CI system's published schema
# (check-jsonschema's vendored schemas, from PyPI), checks the broker webhook
# is JSON naming the right event, and that every template calls only the
# gate scripts (which the test suite runs end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/python-venv.sh
{ command -v check-jsonschema >/dev/null && python3 -c 'import yaml' 2>/dev/null; } ||
  python3 -m pip install --quiet --disable-pip-version-check 'check-jsonschema>=0.29' pyyaml
check-jsonschema --builtin-schema vendor.github-workflows ci/github/*.yml
check-jsonschema --builtin-schema vendor.gitlab-ci ci/gitlab/.gitlab-ci.yml
# The vendored Azure schema has patterns the default (ECMA) regex engine
# rejects; the Python engine reads them.
check-jsonschema --regex-variant python --builtin-schema vendor.azure-pipelines ci/azure/azure-pipelines.yml
# A control: a workflow with a misspelt key must be refused, or this check
# proves nothing.
broken="$(mktemp -d)/broken.yml"
sed 's/runs-on:/runs_on:/' ci/github/contract-gate-tenant.yml > "$broken"
if check-jsonschema --builtin-schema vendor.github-workflows "$broken" >/dev/null 2>&1; then
  echo "template validation FAILED: the control (a misspelt key) was accepted" >&2
  exit 1
fi
python3 - <<'PY'
import json, pathlib, re, sys
hook = json.loads(pathlib.Path("ci/broker-webhook.json").read_text())
assert hook["events"] == [{"name": "contract_requiring_verification_published"}], hook["events"]
assert "${pactbroker.pactUrl}" in json.dumps(hook["request"]["body"]), "the webhook must pass the pact URL"
templates = list(pathlib.Path("ci/github").glob("*.yml")) + [pathlib.Path("ci/gitlab/.gitlab-ci.yml"), pathlib.Path("ci/azure/azure-pipelines.yml")]
for t in templates:
    text = t.read_text()
    calls = set(re.findall(r"bash (ci/[\w.-]+)", text))
    assert calls, f"{t} calls no gate script"
    for c in calls:
        assert pathlib.Path(c).is_file(), f"{t} calls {c}, which does not exist"
    assert "orchestrator-pact " not in re.sub(r"#.*", "", text), f"{t} calls the binary directly: keep templates thin"
# The release workflow: on a tag, every platform, smoke-tested where it runs
# (Windows included), with checksums; the gates offer the released binary.
import yaml
release = yaml.safe_load(pathlib.Path("ci/github/release.yml").read_text())
on = release.get("on", release.get(True))
assert on["push"]["tags"] == ["v*"], "release.yml must run on v* tags"
matrix = release["jobs"]["build"]["strategy"]["matrix"]["include"]
targets = {m["target"]: m["runner"] for m in matrix}
for wanted in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"]:
    assert wanted in targets, f"release.yml does not build {wanted}"
assert targets["x86_64-pc-windows-msvc"].startswith("windows"), "the Windows binary must be built (and smoke-tested) on Windows"
assert targets["aarch64-unknown-linux-gnu"].endswith("-arm"), "the arm64 Linux binary must be built (and smoke-tested) on arm64"
build_script = pathlib.Path("ci/release-build.sh").read_text()
assert '"$binary" verify' in build_script and "sha256" in build_script, "ci/release-build.sh must smoke-test verify and write checksums"
assert "SHA256SUMS" in pathlib.Path("ci/github/release.yml").read_text()
for t in templates:
    if t.name != "release.yml":
        assert "ORCHESTRATOR_PACT_VERSION" in t.read_text(), f"{t} does not offer the released binary (ORCHESTRATOR_PACT_VERSION)"
print(f"templates: {len(templates)} validated against their schemas; the webhook names the event and passes the pact URL")
PY
