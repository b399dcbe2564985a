#!/usr/bin/env bash
# Rasa test stories (tests/conversations/): every flow, predicted by the
# trained model from the citizen's own words; fails on any prediction error.
# Through python -m hotline_rasa: it puts ACTION_SERVER_TOKEN (the environment's
# or the generated var/action_server.token) where endpoints.yml expects it, so
# Rasa's action calls carry the header the action server checks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
out=var/conversation-results
rm -rf "$out"
.venv-rasa/bin/python -m hotline_rasa test core --stories tests/conversations --model models \
  --endpoints endpoints.yml --out "$out" --fail-on-prediction-errors --no-plot
echo "conversation tests passed: $(cat tests/conversations/*.yml | grep -c '^  - story:') stories"
