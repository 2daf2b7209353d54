# Sourced by the ci/ scripts: start_emulator ARGS... starts
# `orchestrator-pact serve ARGS` in the background, waits for the URL it
# prints, and sets EMULATOR_URL, EMULATOR_PORT and EMULATOR_PID. Every
# emulator started is stopped when the sourcing script exits.
#
# `serve` prints its URL only once it holds the port, so a URL from our own
# process proves that it, and not another server on a taken port, is the
# one answering; start_emulator exits 2 when the process stops without one
# (a taken `--port`), and emulator_still_ours checks later that it still
# runs. A script that talked to someone else's server would prove nothing.
: "${ORCHESTRATOR_PACT:=target/release/orchestrator-pact}"
EMULATOR_PIDS=()
stop_emulators() {
  for pid in "${EMULATOR_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${EMULATOR_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_emulators EXIT
start_emulator() {
  local out err
  out="$(mktemp)"
  err="$(mktemp)"
  "$ORCHESTRATOR_PACT" serve "$@" >"$out" 2>"$err" &
  EMULATOR_PID=$!
  EMULATOR_PIDS+=("$EMULATOR_PID")
  EMULATOR_URL=""
  for _ in $(seq 1 100); do
    EMULATOR_URL="$(head -n1 "$out")"
    [[ -n "$EMULATOR_URL" ]] && break
    kill -0 "$EMULATOR_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$EMULATOR_URL" ]] || ! kill -0 "$EMULATOR_PID" 2>/dev/null; then
    echo "error: the emulator this script started did not start (is its port taken by another server?): $(grep -m1 '^error' "$err" || echo 'it printed no URL')" >&2
    rm -f "$out" "$err"
    exit 2
  fi
  rm -f "$out" "$err"
  EMULATOR_PORT="${EMULATOR_URL##*:}"
}
# Exits 2 unless the emulator started last still runs: the answers the
# script got came from it.
emulator_still_ours() {
  kill -0 "$EMULATOR_PID" 2>/dev/null || {
    echo "error: the emulator this script started (PID $EMULATOR_PID) has stopped: its answers came from another server" >&2
    exit 2
  }
}
