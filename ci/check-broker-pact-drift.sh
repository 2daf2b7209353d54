#!/usr/bin/env bash
# Fails when the committed broker-pacts/ differ from what the broker client's
# pact tests record now: the client's use of the broker changed and
# broker-pacts/ was not regenerated (ci/record-broker-pacts.sh).
exec bash "$(dirname "$0")/pact-recording.sh" check broker
