#!/usr/bin/env bash
# Agreement with a peer: runs PactFlow's swagger-mock-validator and
# `orchestrator-pact check-spec` on pacts/ and on copies broken on purpose
# (a wrong path, a string where the spec says boolean, undeclared statuses,
# ...), prints a table of both verdicts, and fails where the two disagree on
# compatible versus incompatible and spec-divergences.toml does not explain
# it. The spec is UiPath's (IDENTITY_OPENAPI, by default
# ../shared/reference/identity-openapi.yaml: see ci/identity-openapi.sh) when
# it is there, else the test fixture
# provider/tests/fixtures/spec/identity-users-openapi-3.0.yaml.
# See ci/spec_peer_agreement.py for the rules.
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
: "${ORCHESTRATOR_PACT:=target/release/orchestrator-pact}"
peer="$(bash ci/install-swagger-mock-validator.sh)"
[[ -x "$ORCHESTRATOR_PACT" ]] || cargo build --release --quiet

source ci/identity-openapi.sh
fixture=provider/tests/fixtures/spec/identity-users-openapi-3.0.yaml
spec="$(identity_openapi "both tools check against the test fixture $fixture instead")"
spec="${spec:-$fixture}"

python3 ci/spec_peer_agreement.py \
  --spec "$spec" \
  --pact pacts/automation-client-uipath-identity.json \
  --peer "$peer" \
  --peer-report ci/swagger-mock-validator-report.mjs \
  --orchestrator-pact "$ORCHESTRATOR_PACT"
