# Sourced by the ci/ scripts: start_emulator ARGS... starts
# `orchestrator-pact serve ARGS` in the background, waits for the URL it
# prints, and sets EMULATOR_URL, EMULATOR_PORT and EMULATOR_PID. Every
# emulator started is stopped when the sourcing script exits.
: "${ORCHESTRATOR_PACT:=target/release/orchestrator-pact}"
EMULATOR_PIDS=()
stop_emulators() {
  for pid in "${EMULATOR_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${EMULATOR_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_emulators EXIT
start_emulator() {
  local out
  out="$(mktemp)"
  "$ORCHESTRATOR_PACT" serve "$@" >"$out" 2>/dev/null &
  EMULATOR_PID=$!
  EMULATOR_PIDS+=("$EMULATOR_PID")
  for _ in $(seq 1 100); do
    EMULATOR_URL="$(head -n1 "$out")"
    [[ -n "$EMULATOR_URL" ]] && break
    sleep 0.1
  done
  rm -f "$out"
  [[ -n "$EMULATOR_URL" ]] || { echo "the emulator did not start" >&2; exit 2; }
  EMULATOR_PORT="${EMULATOR_URL##*:}"
}
