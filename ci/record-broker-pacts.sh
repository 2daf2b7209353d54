#!/usr/bin/env bash
# Records the broker client's own contract (consumer orchestrator-pact,
# provider Pact Broker) from a clean state into broker-pacts/. Run it after
# changing provider/tests/provider/broker_pacts.rs, then commit broker-pacts/.
exec bash "$(dirname "$0")/pact-recording.sh" record broker
