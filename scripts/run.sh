#!/usr/bin/env bash
# Start the whole hotline on one machine: action server (:5055), Rasa (:5005),
# both on loopback, and the front door (:8080, PORT). Trains a model first if
# the data changed. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY=.venv/bin/python
mkdir -p var/log

"$PY" scripts/build_training_data.py
"$PY" scripts/train.py

endpoints=endpoints.yml
if [ -n "${REDIS_URL:-}" ]; then
  # Rasa's Redis tracker and lock stores take host/port/db/password separately.
  eval "$("$PY" -c 'import os, urllib.parse as u
p = u.urlparse(os.environ["REDIS_URL"])
print(f"export REDIS_HOST={p.hostname or \"127.0.0.1\"} REDIS_PORT={p.port or 6379} "
      f"REDIS_DB={(p.path or \"/0\").lstrip(\"/\") or 0} REDIS_PASSWORD={p.password or \"\"}")')"
  endpoints=endpoints.redis.yml
fi

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

echo "==> starting the action server on 127.0.0.1:5055 (log: var/log/actions.log)"
SANIC_HOST=127.0.0.1 "$PY" -m rasa_sdk --actions actions --port 5055 >var/log/actions.log 2>&1 &
pids+=($!)
echo "==> starting Rasa on 127.0.0.1:5005 (log: var/log/rasa.log)"
"$PY" -m hotline_rasa run --enable-api --interface 127.0.0.1 --port 5005 --model models \
  --endpoints "$endpoints" --credentials credentials.yml >var/log/rasa.log 2>&1 &
pids+=($!)
echo "==> starting the front door on ${HOST:-127.0.0.1}:${PORT:-8080}"
"$PY" -m bot &
pids+=($!)

for _ in $(seq 1 180); do
  if curl -fsS "http://127.0.0.1:${PORT:-8080}/healthz" >/dev/null 2>&1; then
    echo "==> ready: open http://127.0.0.1:${PORT:-8080}/ (widget) and /console/ (agents)"
    break
  fi
  sleep 2
done
wait -n "${pids[@]}"
