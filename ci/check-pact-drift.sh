#!/usr/bin/env bash
# Fails when the committed pacts/ differ from what the consumer tests record
# now: the contract changed and pacts/ was not regenerated (ci/record-pacts.sh).
exec bash "$(dirname "$0")/pact-recording.sh" check tenant
