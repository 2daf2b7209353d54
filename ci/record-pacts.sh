#!/usr/bin/env bash
# Records the consumer's contract from a clean state into pacts/.
# Run it after changing consumer/tests, then commit pacts/.
exec bash "$(dirname "$0")/pact-recording.sh" record tenant
