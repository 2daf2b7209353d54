#!/usr/bin/env bash
# The tenant side of the contract gate, exactly as a pipeline runs it:
#   1. verify the tenant against the pacts the Pact Broker selects (or the one
#      pact a broker webhook names in $PACT_URL), publish the results;
#   2. record the tenant's version as deployed in $DEPLOY_ENVIRONMENT, so
#      that consumers' can-i-deploy sees what runs there.
# Exit 0: the tenant honours the contract; 1: it does not; 2: could not check.
#
# Variables: PACT_BROKER_BASE_URL and PACT_BROKER_TOKEN for the broker; the
# tenant as for `orchestrator-pact verify`: UIPATH_URI, UIPATH_ORGANIZATION,
# UIPATH_TENANT (or ORCHESTRATOR_PACT_BASE_URL), UIPATH_ORGANIZATION_ID,
# UIPATH_CLIENT_ID and UIPATH_CLIENT_SECRET (or UIPATH_PAT); with no tenant
# given, the embedded emulator stands in. PROVIDER_VERSION (default the
# tenant's name and the UTC time), DEPLOY_ENVIRONMENT (default production),
# PACT_URL (set by the broker's webhook), REPORTS_DIR (default reports),
# BUILD_URL, ORCHESTRATOR_PACT (the binary) or ORCHESTRATOR_PACT_VERSION (a
# release to download); built from source when neither is given.
set -euo pipefail
cd "$(dirname "$0")/.."
export PACT_DO_NOT_TRACK=true
provider=uipath-identity
environment="${DEPLOY_ENVIRONMENT:-production}"
reports="${REPORTS_DIR:-reports}"
version="${PROVIDER_VERSION:-${UIPATH_TENANT:-tenant}-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$reports"

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

args=(verify --provider-version "$version" --provider-branch "${PROVIDER_BRANCH:-main}"
      --enable-pending --publish
      --junit "$reports/contract-junit.xml" --json "$reports/contract.json" --summary "$reports/contract-summary.md")
[[ -n "${PACT_URL:-}" ]] && args+=(--webhook-callback-url "$PACT_URL")
[[ -n "${BUILD_URL:-}" ]] && args+=(--build-url "$BUILD_URL")

echo "== 1. verify the tenant as $provider $version"
status=0
op "${args[@]}" || status=$?

if [[ $status -ne 2 ]]; then
  echo "== 2. record $provider $version as deployed in $environment"
  op record-deployment --pacticipant "$provider" --version "$version" --environment "$environment"
fi
case $status in
  0) echo "gate: the tenant honours the contract" ;;
  1) echo "gate: the tenant no longer honours the contract: see the FAILED lines and $reports/contract-summary.md" >&2 ;;
  *) echo "gate: the contract could not be checked: see the error above" >&2 ;;
esac
exit "$status"
