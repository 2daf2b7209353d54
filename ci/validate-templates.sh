#!/usr/bin/env bash
# Validates every CI template, and the GitHub Action (action.yml), against
# its CI system's published schema (check-jsonschema's vendored schemas,
# from PyPI), checks the broker webhook is JSON naming the right event, that
# the GitLab and Azure templates call only the gate scripts (which the test
# suite runs end to end) and the GitHub ones only the action (which
# ci/action-dry-run.sh runs), and what the action promises about secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/python-venv.sh
{ command -v check-jsonschema >/dev/null && python3 -c 'import yaml' 2>/dev/null; } ||
  python3 -m pip install --quiet --disable-pip-version-check 'check-jsonschema>=0.29' pyyaml
check-jsonschema --builtin-schema vendor.github-workflows ci/github/*.yml
check-jsonschema --builtin-schema vendor.github-actions action.yml
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
sed 's/^    required:/    requird:/' action.yml > "$broken"
if check-jsonschema --builtin-schema vendor.github-actions "$broken" >/dev/null 2>&1; then
  echo "template validation FAILED: the action's control (a misspelt key) was accepted" >&2
  exit 1
fi
python3 - <<'PY'
import json, pathlib, re, sys
import yaml
hook = json.loads(pathlib.Path("ci/broker-webhook.json").read_text())
assert hook["events"] == [{"name": "contract_requiring_verification_published"}], hook["events"]
assert "${pactbroker.pactUrl}" in json.dumps(hook["request"]["body"]), "the webhook must pass the pact URL"
templates = list(pathlib.Path("ci/github").glob("*.yml")) + [pathlib.Path("ci/gitlab/.gitlab-ci.yml"), pathlib.Path("ci/azure/azure-pipelines.yml")]
gates = [pathlib.Path("ci/github/contract-gate-consumer.yml"), pathlib.Path("ci/github/contract-gate-tenant.yml")]
for t in templates:
    text = t.read_text()
    code = re.sub(r"#.*", "", text)
    assert "orchestrator-pact " not in code, f"{t} calls the binary directly: keep templates thin"
    if t in gates:
        assert re.search(r"uses: orchestrator-pact/orchestrator-pact@v\d+\.\d+\.\d+\n", code), f"{t} does not use the action at a release tag"
        continue
    calls = set(re.findall(r"bash (ci/[\w.-]+)", text))
    assert calls, f"{t} calls no gate script"
    for c in calls:
        assert pathlib.Path(c).is_file(), f"{t} calls {c}, which does not exist"
# The action: secrets reach the command through the environment only, and
# no step traces its commands.
action = yaml.safe_load(pathlib.Path("action.yml").read_text())
secret_inputs = ["client-secret", "token", "test-user-password", "broker-token", "broker-password"]
steps = action["runs"]["steps"]
for step in steps:
    assert step.get("shell") == "bash", f"action step {step.get('name')}: not bash"
    assert not re.search(r"set -[a-z]*x|set -o xtrace|bash -x", step.get("run", "")), f"action step {step.get('name')} traces its commands"
    for name in secret_inputs:
        assert f"inputs.{name} " not in step.get("run", "") and f"inputs.{name}}}" not in step.get("run", ""), f"action step {step.get('name')} puts the {name} input into its script"
run_env = next(s for s in steps if s.get("id") == "run")["env"]
for name in secret_inputs:
    assert name in action["inputs"], f"the action has no {name} input"
    assert f"${{{{ inputs.{name} }}}}" in run_env.values(), f"the {name} input does not reach the command's environment"
# The release workflow: on a tag, every platform, smoke-tested where it runs
# (Windows included), with checksums; the gates offer the released binary.
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
pack_script = pathlib.Path("ci/release-pack.sh").read_text()
assert '"$binary" verify' in build_script and "ci/release-pack.sh" in build_script, "ci/release-build.sh must smoke-test verify and pack"
assert "sha256" in pack_script and "generate man" in pack_script and "complete-bash" in pack_script, "ci/release-pack.sh must write checksums, the man page and completions"
assert "SHA256SUMS" in pathlib.Path("ci/github/release.yml").read_text()
for t in templates:
    if t.name != "release.yml" and t not in gates:
        assert "ORCHESTRATOR_PACT_VERSION" in t.read_text(), f"{t} does not offer the released binary (ORCHESTRATOR_PACT_VERSION)"
# cargo binstall's metadata names the archives the release publishes, where
# ci/install-release.sh and the action download them.
import tomllib
provider = tomllib.loads(pathlib.Path("provider/Cargo.toml").read_text())
workspace = tomllib.loads(pathlib.Path("Cargo.toml").read_text())
repo = workspace["workspace"]["package"]["repository"]
binstall = provider["package"]["metadata"]["binstall"]
releases = f"{repo}/releases/download"
assert f'releases="${{ORCHESTRATOR_PACT_RELEASES:-{releases}}}"' in pathlib.Path("ci/install-release.sh").read_text(), "ci/install-release.sh downloads from elsewhere"
assert action["inputs"]["releases-url"]["default"] == releases, "the action downloads from elsewhere"
assert 'name="orchestrator-pact-$version-$target"' in pack_script and 'archive="$name.tar.gz"' in pack_script and 'archive="$name.zip"' in pack_script, "ci/release-pack.sh names its archives otherwise"
for target in targets:
    meta = dict(binstall, **binstall.get("overrides", {}).get(target, {}))
    suffix = ".zip" if "windows" in target else ".tar.gz"
    exe = ".exe" if "windows" in target else ""
    values = {"repo": repo, "name": "orchestrator-pact", "version": "1.2.3", "target": target, "bin": "orchestrator-pact", "binary-ext": exe}
    render = lambda t: re.sub(r"\{ ([a-z-]+) \}", lambda m: values[m.group(1)], t)
    archive = f"orchestrator-pact-1.2.3-{target}{suffix}"
    assert render(meta["pkg-url"]) == f"{releases}/v1.2.3/{archive}", f"binstall's pkg-url for {target}: {render(meta['pkg-url'])}"
    assert render(meta["bin-dir"]) == f"orchestrator-pact-1.2.3-{target}/orchestrator-pact{exe}", f"binstall's bin-dir for {target}"
    assert meta["pkg-fmt"] == ("zip" if "windows" in target else "tgz"), f"binstall's pkg-fmt for {target}"
print(f"templates: {len(templates)} and the action validated against their schemas; the webhook names the event and passes the pact URL")
PY
