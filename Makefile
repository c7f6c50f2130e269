# MesoGuide: the single interface for people and CI (.ci/run calls `make test`).
#   make run    set up if needed, train if anything changed,
#               start the action server + Rasa server + escalation notifier + staff dashboard,
#               wait until they answer
#   make test   the same set-up, then the whole suite (lint, types, stories, pytest)
#   make test-fast  the edit-test loop: lint, types and the tests that need no model, browser
#               or database server (about 7 minutes on 2 cores: several tests read every case set)
#   make shell  the conversation shell for clinic staff, on the same trained model
#   make staff-shell  the same with the decision view (TRANSCRIPT=file.md to save the session)
#   make train  train only (skips when nothing changed; Rasa's cache retrains only what changed)
#   make run-production  nginx (TLS) in front of 2 Rasa servers and 2 action servers, PostgreSQL
#               and Redis behind, notifier and dashboard, from production.yml (docs/production.md)
#   make chaos  the production profile under faults (make test runs it)
#   make bench-compare  stock `rasa init` bot vs MesoGuide default vs production, same load
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
INSTALLED := $(VENV)/.installed            # the runtime dependencies
INSTALLED_TEST := $(VENV)/.installed-test  # + the test and dev extras
MODEL     := models/.trained

KNOWLEDGE := $(shell find knowledge -name '*.yml' 2>/dev/null)
NLU_DATA  := $(shell find data -name '*.yml' 2>/dev/null)
GUARDRAIL_PY := $(shell find mesoguide/guardrail mesoguide/knowledge mesoguide/language mesoguide/rasa_components -name '*.py' 2>/dev/null)

# Rasa and TensorFlow are chatty; keep the terminal readable.
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: help setup web postgresql topics train run shell staff-shell test test-fast test-unit lint validate test-stories check-knowledge check-release constraints bench eval clean production-deps run-production chaos bench-compare deploy-render deploy-check

help:
	@echo "make run | make run-production | make test | make test-fast | make shell | make staff-shell | make train | make bench | make bench-compare | make chaos | make eval | make check-knowledge | make check-release | make constraints | make deploy-render | make clean"

# --- set-up ------------------------------------------------------------------------------
# Rasa 3.6 needs Python 3.10 (<3.11). `python` resolves to it through .python-version (pyenv);
# python3.10 or pyenv's own 3.10 install are tried too, so a shell without the shim works.
PYTHON310 = $(shell for p in python python3.10 $$HOME/.pyenv/versions/3.10*/bin/python; do \
	  $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { echo $$p; break; }; done)

$(INSTALLED): pyproject.toml constraints.txt
	@test -x $(PY) || { test -n "$(PYTHON310)" || { echo "Python 3.10 not found (see .python-version)"; exit 1; }; \
	  $(PYTHON310) -m venv $(VENV); }
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10), "need Python 3.10, got " + sys.version' \
	  || { echo "$(VENV) is not Python 3.10: delete it and run make again."; exit 1; }
	$(PY) -m pip install --quiet -c constraints.txt -e .
	@touch $@

$(INSTALLED_TEST): $(INSTALLED)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,dev]"
	@touch $@

# constraints.txt: every version pinned, each annotated with what needs it, compiled from the
# ranges in pyproject.toml by pip-tools. pip-tools lives in its own venv (build/tools): it needs a
# newer `packaging` than Rasa 3.6 allows. Existing pins are kept unless a range excludes them;
# `make constraints UPGRADE=1` moves every pin to the newest allowed.
constraints:
	@test -x build/tools/bin/pip-compile || { $(PYTHON310) -m venv build/tools && build/tools/bin/pip install --quiet pip-tools==7.6.2; }
	build/tools/bin/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	  --extra test --extra dev $(if $(UPGRADE),--upgrade) \
	  --output-file constraints.txt pyproject.toml

# The chat widget's browser dependencies (socket.io-client), from the committed lock file into
# web/node_modules; the Rasa server serves them itself (no CDN at run time).
WEB_DEPS := web/node_modules/.package-lock.json
$(WEB_DEPS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || apt-get install -y --no-install-recommends npm \
	  || { apt-get update && apt-get install -y --no-install-recommends npm; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web: $(WEB_DEPS)

setup: $(INSTALLED_TEST) $(WEB_DEPS)

# Browser tests drive Debian's Chromium with Playwright (Playwright cannot download
# browsers here). Installed once per machine; `apt-get update` only when the index is stale.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }

# The escalation store's tests run on SQLite and on a throwaway PostgreSQL cluster that the
# test set-up starts on a free loopback port (tests/support/pgtest.py). Installed once
# per machine when its initdb is missing.
POSTGRES_INITDB := /usr/lib/postgresql/*/bin/initdb
postgresql:
	@ls $(POSTGRES_INITDB) >/dev/null 2>&1 || apt-get install -y --no-install-recommends postgresql \
	  || { apt-get update && apt-get install -y --no-install-recommends postgresql; }

# --- the model (retrained only when its inputs change) -----------------------------------
# The topic intents of domain.yml and data/rules.yml follow knowledge/topics (generated between
# marker lines). Rasa's own cache then retrains only the steps whose inputs changed: a
# vocabulary edit rebuilds the guardrail's stored pipeline and nothing else.
topics: $(INSTALLED)
	$(PY) -m mesoguide.knowledge.topics --write

# The stamp gets the time training started, so an edit made while training runs is not lost.
$(MODEL): $(INSTALLED) $(KNOWLEDGE) $(GUARDRAIL_PY) $(NLU_DATA) domain.yml config.yml
	$(PY) -m mesoguide.knowledge
	$(PY) -m mesoguide.knowledge.topics --write
	@mkdir -p models
	@touch $@.start
	@rm -f models/*.tar.gz
	$(RASA) train --fixed-model-name mesoguide --out models
	@mv $@.start $@

train: $(MODEL)

check-knowledge: $(INSTALLED)
	$(PY) -m mesoguide.knowledge

# The release gate (mesoguide/knowledge/release.py): fails, naming each field, while clinic.yml
# holds example facts, lacks a checked out-of-hours route or recent facts_checked, or any text
# lacks a current clinician sign-off. A production start-up refuses to start on the same rules
# (require_release_ready); `make run` only warns.
check-release: $(INSTALLED)
	$(PY) -m mesoguide.knowledge.release

# --- serving -------------------------------------------------------------------------------
run: $(MODEL) $(WEB_DEPS)
	@$(PY) -m mesoguide.stack run

shell: $(MODEL)
	@$(PY) -m mesoguide.stack shell

# The staff view: chat, and after each reply one line with intent, confidence, guardrail terms,
# outcome and knowledge entry. URL=... TOKEN=... attach to a running `make run` instead of
# starting a stack; TRANSCRIPT=build/staff/session.md saves the session.
staff-shell: $(MODEL)
	@$(PY) -m mesoguide.staff_shell $(if $(URL),--url $(URL) --token $(TOKEN)) $(if $(TRANSCRIPT),--transcript $(TRANSCRIPT))

# --- tests ---------------------------------------------------------------------------------
validate: $(MODEL)
	$(RASA) data validate --fail-on-warnings

test-stories: $(MODEL)
	$(RASA) test core --stories tests/test_stories.yml --model models --fail-on-prediction-errors --out build/results/stories

test-unit: $(INSTALLED_TEST) $(MODEL) $(CHROMIUM) $(WEB_DEPS) postgresql production-deps
	$(PY) -m pytest --durations=15

# ruff (lint, import order) and mypy (types) over the project's code; configured in pyproject.toml.
lint: $(INSTALLED_TEST)
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint validate test-stories test-unit chaos deploy-check

test-fast: lint
	$(PY) -m pytest -q -m "not e2e and not model and not browser and not postgres"

# The evaluation command: the held-out corpora through the real stack, report in
# build/eval/ (report.md, report.json, confusion_<system>.png, cross_validation.json). CASES=... to pick
# files or directories; the cross-validation is cached in build/crossval/ by its inputs.
CASES ?= tests/heldout tests/blind tests/real tests/multiturn tests/patients tests/forums tests/inbox tests/desk tests/mailbag tests/enquiries tests/postbox tests/chatlog tests/guestbook tests/website
eval: $(MODEL)
	@$(PY) -m mesoguide.evaluation $(CASES) --out build/eval

# Numbers, not pass/fail: start-up, per-message latency, memory (mesoguide/bench.py).
bench: $(MODEL)
	@$(PY) -m mesoguide.bench

# --- production profile (docs/production.md) ------------------------------------------------
# nginx, Redis, PostgreSQL and openssl from Debian, installed once per machine when missing;
# kubectl (renders the kustomize base) and docker-compose (validates the compose file) for
# deploy-check. Nothing here can run the containers: there is no container engine.
production-deps: postgresql
	@missing=""; \
	for tool in nginx:nginx redis-server:redis-server openssl:openssl; do \
	  command -v $${tool%%:*} >/dev/null || test -x /usr/sbin/$${tool%%:*} || missing="$$missing $${tool##*:}"; done; \
	test -z "$$missing" || apt-get install -y --no-install-recommends $$missing \
	  || { apt-get update && apt-get install -y --no-install-recommends $$missing; }

run-production: $(MODEL) $(WEB_DEPS) production-deps
	@$(PY) -m mesoguide.production run

# 20 conversations in flight; kill -9 a Rasa server and an action server, restart PostgreSQL,
# stop Redis for 10 s; prints lost messages, duplicates, lost escalation records, recovery times.
chaos: $(MODEL) $(WEB_DEPS) production-deps
	@$(PY) -m mesoguide.production.chaos

# Numbers, not pass/fail: stock `rasa init` bot (build/stock-bot, trained once), MesoGuide's
# default profile and the production profile, one after the other under the same load.
bench-compare: $(MODEL) $(WEB_DEPS) production-deps
	@$(PY) -m mesoguide.perf.compare

# deploy/ is generated from production.yml; tests/production/test_deploy_in_sync.py fails when it drifts.
deploy-render: $(INSTALLED)
	$(PY) -m mesoguide.production render-deploy

deploy-check: $(INSTALLED)
	@command -v kubectl >/dev/null || apt-get install -y --no-install-recommends kubernetes-client \
	  || { apt-get update && apt-get install -y --no-install-recommends kubernetes-client; }
	@command -v docker-compose >/dev/null || apt-get install -y --no-install-recommends docker-compose \
	  || { apt-get update && apt-get install -y --no-install-recommends docker-compose; }
	kubectl kustomize deploy/k8s >/dev/null
	POSTGRES_PASSWORD=check REDIS_PASSWORD=check RASA_AUTH_TOKEN=check-check-check \
	  MESOGUIDE_ACTION_TOKEN=check-check-check MESOGUIDE_REST_TOKEN=check-check-check docker-compose -f deploy/docker-compose.yml config -q
	@echo "deploy/: kustomize base and compose file are valid (rendering only: nothing runs here)"

clean:
	rm -rf build models
