#!/usr/bin/env bash
# Start the whole hotline on one machine: action server (:5055), Rasa (:5005),
# both on loopback, and the front door (:8080, PORT). Trains a model first if
# the data changed. Ctrl-C stops all three.
#
# When one of the three stops while starting (a port taken, a bad setting),
# or later, the script says which one and where its log is, stops the other
# two and exits non-zero. It waits at most STARTUP_TIMEOUT seconds (default
# 360) for /readyz to say "ok" (the store and the database answer, Rasa has
# its model, the action server answers).
#
# Environment (besides the front door's own settings):
#   MODEL_VERSION       load that version from models/ (`make model` printed it;
#                       docs/deploy.md) and train nothing, as production does
#   SKIP_TRAIN=1        start with the model in models/ as it is (no training
#                       data rebuild, no training; tests and quick restarts)
#   RASA_PORT, ACTION_SERVER_PORT   default 5005 and 5055 (loopback)
#   STARTUP_TIMEOUT     seconds to wait for readiness (default 360)
#   HOTLINE_VAR_DIR     var/ (logs under var/log; the generated secrets)
# Rasa's and the action server's tokens (RASA_AUTH_TOKEN, ACTION_SERVER_TOKEN)
# come from the environment or are generated once into var/ (mode 0600) and
# read there by all three processes; none is ever put on a command line.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=.venv/bin/python            # the app: front door, action server, tools (Python 3.13)
RASA_PY=.venv-rasa/bin/python  # Rasa alone (Python 3.10)
VAR="${HOTLINE_VAR_DIR:-var}"
LOG="$VAR/log"
RASA_PORT="${RASA_PORT:-5005}"
ACTION_SERVER_PORT="${ACTION_SERVER_PORT:-5055}"
FRONT_PORT="${PORT:-8080}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-360}"
mkdir -p "$LOG"

if [ "${SKIP_TRAIN:-0}" != 1 ] && [ -z "${MODEL_VERSION:-}" ]; then
  "$PY" scripts/build_training_data.py
  "$RASA_PY" scripts/train.py
fi

# Rasa takes the action server's URL (ACTION_SERVER_URL, exported below) and,
# with REDIS_URL set, its Redis tracker and lock stores from the environment
# (python -m hotline_rasa: hotline_rasa/deployment.py).
endpoints=endpoints.yml
if [ -n "${REDIS_URL:-}" ]; then
  endpoints=endpoints.redis.yml
fi
export RASA_URL="http://127.0.0.1:$RASA_PORT" ACTION_SERVER_URL="http://127.0.0.1:$ACTION_SERVER_PORT"

pids=()
names=()
logs=()
cleanup() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -eq 0 ] && return
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 75); do  # 15 s for a graceful stop, then SIGKILL
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sets DEAD to the index of the first of our processes that is no longer
# running and RC to its exit code; false when all run.
stopped() {
  local i
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      DEAD=$i RC=0
      wait "${pids[$i]}" || RC=$?
      return 0
    fi
  done
  return 1
}

fail() {  # what the process was doing: "while starting", "unexpectedly"
  echo "==> ERROR: the ${names[$DEAD]} stopped $1 (exit code $RC); see ${logs[$DEAD]}" >&2
  if [ -f "${logs[$DEAD]}" ]; then tail -n 15 "${logs[$DEAD]}" | sed 's/^/    /' >&2; fi
  echo "==> stopping the others" >&2
  exit 1
}

echo "==> starting the action server on 127.0.0.1:$ACTION_SERVER_PORT (log: $LOG/actions.log)"
"$PY" -m bot.action_server --actions actions --port "$ACTION_SERVER_PORT" >"$LOG/actions.log" 2>&1 &
pids+=($!) names+=("action server") logs+=("$LOG/actions.log")
echo "==> starting Rasa on 127.0.0.1:$RASA_PORT (log: $LOG/rasa.log)"
"$RASA_PY" -m hotline_rasa run --enable-api --interface 127.0.0.1 --port "$RASA_PORT" --model models \
  --endpoints "$endpoints" --credentials credentials.yml >"$LOG/rasa.log" 2>&1 &
pids+=($!) names+=("Rasa server") logs+=("$LOG/rasa.log")
echo "==> starting the front door on ${HOST:-127.0.0.1}:$FRONT_PORT"
"$PY" -m bot &
pids+=($!) names+=("front door") logs+=("its output above")

deadline=$((SECONDS + STARTUP_TIMEOUT))
until curl -fsS --max-time 5 "http://127.0.0.1:$FRONT_PORT/readyz" 2>/dev/null | grep -q '"status": *"ok"'; do
  if stopped; then fail "while starting"; fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "==> ERROR: not ready after ${STARTUP_TIMEOUT}s; /readyz says:" >&2
    curl -sS --max-time 5 "http://127.0.0.1:$FRONT_PORT/readyz" >&2 || true
    echo >&2
    echo "==> logs: $LOG/actions.log, $LOG/rasa.log; stopping everything" >&2
    exit 1
  fi
  sleep 1
done
echo "==> ready: open http://127.0.0.1:$FRONT_PORT/ (widget) and /console/ (agents)"

wait -n "${pids[@]}" || true
if stopped; then fail "unexpectedly"; fi
