#!/usr/bin/env bash
# The whole test suite, as CI runs it (`make test`): knowledge checks, Rasa's
# data validation, model training (cached: skipped when data and config are
# unchanged), Rasa conversation tests, the Rasa environment's own tests, then
# pytest in the app environment (unit, integration against real
# Redis/PostgreSQL, the dialogue end to end against a Rasa server started from
# the Rasa environment, headless browser).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
PY=.venv/bin/python            # the app environment (Python 3.13)
RASA_PY=.venv-rasa/bin/python  # the Rasa environment (Python 3.10)

echo "==> knowledge files and generated training data"
$PY scripts/check_knowledge_faq.py
$PY scripts/check_knowledge_services.py
$PY scripts/build_training_data.py --check
$RASA_PY eval/check_sets.py   # evaluation sets stay independent of the training data

echo "==> nginx -t on the rendered nginx configuration (deploy/nginx)"
scripts/check_nginx.sh

echo "==> rasa data validate"
.venv-rasa/bin/rasa data validate --domain domain.yml --data data --config config.yml

echo "==> deployment files (deploy/): compose-spec schema, Kubernetes API schemas (offline)"
.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
.venv/bin/kubernetes-validate --strict --quiet deploy/k8s/*.yaml
# (their cross-checks with the code run with pytest below: tests/deploy)

echo "==> training the model (skipped when up to date)"
$RASA_PY scripts/train.py

echo "==> Rasa conversation tests"
scripts/conversation_tests.sh

echo "==> pytest in the Rasa environment (hotline_rasa)"
$RASA_PY -m pytest -q -p no:cacheprovider hotline_rasa/tests

echo "==> pytest"
$PY -m pytest -q "$@"

if [ "$#" -eq 0 ]; then
    # The front door can run on uvloop (EVENT_LOOP=uvloop, bot/__main__.py);
    # the tests above ran on asyncio's own loop. The same tests once more on uvloop.
    echo "==> pytest on uvloop (tests without the model or a browser)"
    TEST_EVENT_LOOP=uvloop $PY -m pytest -q -m "not rasa and not browser"
fi
