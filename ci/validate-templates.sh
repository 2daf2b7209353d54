#!/usr/bin/env bash
# Validates every CI template against its CI system's published schema
# (check-jsonschema's vendored schemas, from PyPI), checks the broker webhook
# is JSON naming the right event, and that every template calls only the
# gate scripts (which the test suite runs end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v check-jsonschema >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'check-jsonschema>=0.29'
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
print(f"templates: {len(templates)} validated against their schemas; the webhook names the event and passes the pact URL")
PY
