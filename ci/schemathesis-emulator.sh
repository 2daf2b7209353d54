#!/usr/bin/env bash
# Runs schemathesis (PyPI) against the emulator with the user operations of
# UiPath's OpenAPI document (IDENTITY_OPENAPI, by default
# ../shared/reference/identity-openapi.yaml: see ci/identity-openapi.sh;
# ci/schemathesis_emulator.py). Skipped, and said so, when that document is
# not there: the run derives its cases from UiPath's own document only.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/identity-openapi.sh
spec="$(identity_openapi "schemathesis is skipped (its cases come from that document only)")"
if [[ -z "$spec" ]]; then
  exit 0
fi
# The script runs schemathesis through this python3 (the CI virtual
# environment's), so that is where it and pyyaml must be, at the version the
# runs were measured with.
source ci/python-venv.sh
python3 - <<'PY' || python3 -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5' pyyaml
import sys, yaml
from importlib.metadata import version
sys.exit(version("schemathesis") != "4.32.5")
PY
[[ -x target/release/orchestrator-pact ]] || cargo build --release --quiet
python3 ci/schemathesis_emulator.py target/release/orchestrator-pact "$spec" "${SCHEMATHESIS_EXAMPLES:-60}"
