#!/usr/bin/env bash
# The consumer side of the contract gate, exactly as a pipeline runs it:
#   1. tests, and the pact drift check (pacts/ is what the tests record);
#   2. publish pacts/ to the Pact Broker under this commit and branch;
#   3. can-i-deploy: may this version go to $DEPLOY_ENVIRONMENT?
#   4. on the main branch, record the deployment.
# Exit 0: deployable (and recorded); 1: not deployable or the contract
# drifted; 2: could not ask (broker, credentials, flags).
#
# Variables: PACT_BROKER_BASE_URL and PACT_BROKER_TOKEN (or
# PACT_BROKER_USERNAME/PACT_BROKER_PASSWORD) for the broker;
# DEPLOY_ENVIRONMENT (default production); GATE_MAIN_BRANCH (default main);
# GATE_SKIP_TESTS=1 skips step 1 (when the pipeline ran it already);
# GATE_RETRY_WHILE_UNKNOWN (default 10) and GATE_RETRY_INTERVAL (default 30)
# for step 3; ORCHESTRATOR_PACT, the binary, or ORCHESTRATOR_PACT_VERSION, a
# release to download (built from source when neither is given).
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
consumer=automation-client
environment="${DEPLOY_ENVIRONMENT:-production}"
main_branch="${GATE_MAIN_BRANCH:-main}"

# The binary: ORCHESTRATOR_PACT; else the release ORCHESTRATOR_PACT_VERSION
# (downloaded, checksum checked: fast); else built from source.
if [[ -z "${ORCHESTRATOR_PACT:-}" && -n "${ORCHESTRATOR_PACT_VERSION:-}" ]]; then
  ORCHESTRATOR_PACT="$(bash ci/install-release.sh "$ORCHESTRATOR_PACT_VERSION")"
fi
if [[ -z "${ORCHESTRATOR_PACT:-}" ]]; then
  cargo build --release --quiet
  ORCHESTRATOR_PACT=target/release/orchestrator-pact
fi
op() { "$ORCHESTRATOR_PACT" "$@"; }

# The version is the commit and the branch the CI's or git's.
version="${CONSUMER_VERSION:-${GITHUB_SHA:-${CI_COMMIT_SHA:-${BUILD_SOURCEVERSION:-$(git rev-parse HEAD)}}}}"
branch="${CONSUMER_BRANCH:-${GITHUB_HEAD_REF:-}}"
branch="${branch:-${GITHUB_REF_NAME:-${CI_COMMIT_REF_NAME:-${BUILD_SOURCEBRANCHNAME:-$(git rev-parse --abbrev-ref HEAD)}}}}"

if [[ "${GATE_SKIP_TESTS:-0}" != 1 ]]; then
  echo "== 1. tests and pact drift check"
  cargo test --workspace
  bash ci/check-pact-drift.sh || exit 1
fi

echo "== 2. publish pacts/ as $consumer $version (branch $branch)"
op publish --pacts pacts --consumer-app-version "$version" --branch "$branch"

echo "== 3. can-i-deploy $consumer $version to $environment"
status=0
op can-i-deploy --pacticipant "$consumer" --version "$version" --to-environment "$environment" \
  --retry-while-unknown "${GATE_RETRY_WHILE_UNKNOWN:-10}" --retry-interval "${GATE_RETRY_INTERVAL:-30}" || status=$?
if [[ $status -ne 0 ]]; then
  [[ $status -eq 1 ]] && echo "gate: $consumer $version may not be deployed to $environment (see the matrix above)" >&2
  exit "$status"
fi

if [[ "$branch" == "$main_branch" ]]; then
  echo "== 4. record the deployment of $consumer $version to $environment"
  op record-deployment --pacticipant "$consumer" --version "$version" --environment "$environment"
else
  echo "== 4. not on $main_branch: no deployment recorded"
fi
echo "gate: $consumer $version may be deployed to $environment"
