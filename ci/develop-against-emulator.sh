#!/usr/bin/env bash
# The walk-through of docs/emulator.md ("A walk-through") as a script of its
# own: start a tenant, get a token, create a user, change its password, and
# fail when another server holds the port. ci/run-docs.sh runs the guide
# itself and compares what its commands print with what it shows.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -n "${ORCHESTRATOR_PACT:-}" || -x target/release/orchestrator-pact ]] || cargo build --release --quiet
# The guide's port, 8080, unless WALKTHROUGH_PORT names another (0: any
# free one; the tests use that, so that they hold no fixed port). When
# another server holds the port, this fails (exit 2) instead of walking
# through against that server.
source ci/serve-emulator.sh
start_emulator --port "${WALKTHROUGH_PORT:-8080}" \
    --client my-app:my-secret --organization-id 11111111-2222-3333-4444-555555555555
# The guide's commands (its console block without the `$ ` prompts and the
# answers shown; a test checks that they are the same), run against the
# port the emulator took.
guide_lines() {
  cat <<'GUIDE'
TOKEN=$(curl -s http://127.0.0.1:8080/identity_/connect/token \
  -d grant_type=client_credentials -d client_id=my-app -d client_secret=my-secret \
  -d scope="PM.User PM.User.Write" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -s http://127.0.0.1:8080/identity_/api/User -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"id": "0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e", "userName": "alice", "password": "Passw0rd-1",
       "partitionGlobalId": "11111111-2222-3333-4444-555555555555"}'
curl -s http://127.0.0.1:8080/identity_/api/User/0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e/changepassword \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"oldPassword": "Passw0rd-1", "newPassword": "Passw0rd-2"}'
curl -s http://127.0.0.1:8080/identity_/api/User/0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e/changepassword \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"oldPassword": "Passw0rd-1", "newPassword": "Passw0rd-3"}'
GUIDE
}
set -x
eval "$(guide_lines | sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$EMULATOR_PORT/g")"
set +x
answer=$(curl -s http://127.0.0.1:$EMULATOR_PORT/identity_/api/User/0c4b6b36-7d1f-4a59-8b3e-5f6a7b8c9d0e/changepassword \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"oldPassword": "Passw0rd-1", "newPassword": "Passw0rd-3"}')
[[ "$answer" == *PasswordMismatch* ]] || { echo "expected the old password to be refused: $answer" >&2; exit 1; }
emulator_still_ours
echo "walk-through: token, user, password change all worked; the old password is now refused"
