# Dongguan 12345 hotline front door. `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
RASA_PY := .venv-rasa/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: help install lock up run knowledge train test test-fast validate conversation-tests evaluate evaluate-dispatch evaluate-forms evaluate-services evaluate-safety benchmark overhead rasa-memory knowledge-scale lint services cluster cluster-stop cluster-status faults

.PHONY: model deploy-check

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: ## create .venv (app, Python 3.13) and .venv-rasa (Rasa, Python 3.10) from the hashed lock files; chromium
	@scripts/install.sh

lock: ## re-compile requirements/*.txt (with hashes) from requirements/*.in with uv
	@scripts/lock.sh

up: install ## set up everything and run it: action server, Rasa, front door on :8080
	@scripts/run.sh

run: ## run without reinstalling (trains first if the data changed)
	@scripts/run.sh

knowledge: ## regenerate Rasa training data from data/knowledge/*.yml
	@$(PY) scripts/build_training_data.py

train: knowledge ## train the Rasa model into models/ (skipped when up to date) and check the dispatch classifier
	@$(PY) -m bot.dispatch train
	@$(RASA_PY) scripts/train.py

model: train ## the deployable model: trains once (skipped when up to date), keeps 3 versions, prints MODEL_VERSION (docs/deploy.md)
	@v=$$(ls -t models/*.tar.gz | head -n1); (cd models && sha256sum --check --quiet "$$(basename "$$v").sha256") && \
	  echo "MODEL_VERSION=$$(basename "$$v" .tar.gz)  (artifact: $$v and $$v.sha256)"

deploy-check: ## validate deploy/: compose file (compose-spec schema), Kubernetes manifests (API schemas), their settings against the app's
	@.venv/bin/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
	@.venv/bin/kubernetes-validate --strict --quiet deploy/k8s/*.yaml
	@$(PY) -m pytest -q -p no:cacheprovider tests/deploy

services: ## start the local Redis and PostgreSQL when they are not running
	@scripts/services.sh

validate: ## rasa data validate + knowledge file checks
	@$(PY) scripts/build_training_data.py --check
	@.venv-rasa/bin/rasa data validate --domain domain.yml --data data --config config.yml

test: install services ## the whole test suite (what CI runs)
	@scripts/test.sh

test-fast: ## unit and integration tests only (no Rasa training, no browser)
	@$(PY) -m pytest -m "not rasa and not browser" -q

conversation-tests: ## Rasa test stories against the trained model and the action server
	@scripts/conversation_tests.sh

evaluate: ## quality on eval/heldout, eval/final, eval/citizen, the off-topic eval/city (trains first; ARGS=--use-trained: the model in models/), then complaint dispatch, form answers (eval/forms), service naming (eval/service_naming), the emergency safety net (eval/safety) and complaints told in a line (eval/complaint_intake.py)
	@rc=0; $(RASA_PY) scripts/evaluate.py $(ARGS) || rc=$$?; \
	$(PY) scripts/evaluate_dispatch.py --json eval/report/dispatch/report.json || rc=$$?; \
	$(PY) eval/forms.py --json eval/report/forms/report.json || rc=$$?; \
	$(RASA_PY) eval/service_naming_report.py --set dev test || rc=$$?; \
	$(RASA_PY) eval/safety_report.py --set probe || rc=$$?; \
	$(RASA_PY) eval/safety_report.py --set test || rc=$$?; \
	$(RASA_PY) eval/safety_report.py --set test2 || rc=$$?; \
	$(RASA_PY) eval/complaint_intake.py --set dev dev2 dev3 dev4 dev5 || rc=$$?; \
	$(RASA_PY) eval/complaint_intake.py --set test || rc=$$?; exit $$rc

evaluate-forms: ## form answers (refusals, negations, corrections, "不知道") through a real Rasa and action server, with the model in models/ (eval/forms)
	@$(PY) eval/forms.py --json eval/report/forms/report.json

evaluate-services: ## which service a request in other words names: matcher alone and with the service retriever, threshold sweep (eval/service_naming/dev.yml; SET=test for the report set), with the model in models/
	@$(RASA_PY) eval/service_naming_report.py --set $(or $(SET),dev)

evaluate-safety: ## does a citizen in danger get 119/120/110 first, and how many ordinary messages sharing its words do (eval/safety/probe.yml; SET=test2 for the sealed report set), with the model in models/
	@$(RASA_PY) eval/safety_report.py --set $(or $(SET),probe)

evaluate-dispatch: ## complaint dispatch only: category accuracy, town found, confidence (eval/dispatch)
	@$(PY) scripts/evaluate_dispatch.py --json eval/report/dispatch/report.json

benchmark: ## load benchmark, front door vs Rasa directly (ARGS=--quick for a 4-minute run)
	@$(PY) benchmarks/benchmark.py $(ARGS)

overhead: ## the front door's own latency and CPU per message, against an instant fake Rasa (1 minute)
	@$(PY) benchmarks/frontdoor_overhead.py $(ARGS)

rasa-memory: ## model size and Rasa's RSS after loading and after 50 parses (ARGS="--model models/<file>.tar.gz"; default the newest)
	@$(PY) benchmarks/rasa_memory.py $(ARGS)

knowledge-scale: ## training time, model size, Rasa's RSS and parse p50/p99 by FAQ catalog size: 73, 300, 2,000 entries (synthetic beyond the shipped ones; long; ARGS="--levels 300 --json out.json")
	@$(PY) benchmarks/knowledge_scale.py $(ARGS)

lint: ## ruff and mypy
	@.venv/bin/ruff check bot channels actions hotline_rasa scripts tests eval benchmarks
	@.venv/bin/mypy
	@.venv/bin/mypy --python-version 3.10 hotline_rasa scripts/train.py scripts/evaluate.py  # what runs in Rasa's Python 3.10

cluster: ## start nginx, 2 front doors, 2 Rasa, 2 action servers, own Redis and PostgreSQL on loopback (scripts/cluster.sh)
	@scripts/cluster.sh start

cluster-stop: ## stop what `make cluster` started (logs and data stay in var/cluster)
	@scripts/cluster.sh stop

cluster-status: ## each process of `make cluster`: running, healthy
	@scripts/cluster.sh status

faults: ## fault tests against the running `make cluster` (tests/faults; prints the figures)
	@$(PY) -m pytest tests/faults -m faults -s -q -p no:cacheprovider $(ARGS)
