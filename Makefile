# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run chat test lint bench package lock build-KneeRoutineFunction endpoint manifest \
        sync-models nlu-report clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Knee Routine needs Python 3.11 or later (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.web: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[web]'
	@touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@ $(VENV)/.web

## Serve the skill locally on http://$(HOST):$(PORT)/alexa (SQLite store, verification off).
run: $(VENV)/.web
	$(BIN)/knee-routine serve --dev --host $(HOST) --port $(PORT)

## Talk to the skill in the terminal (LOCALE=en-US for English).
chat: $(VENV)/.web
	$(BIN)/knee-routine chat --locale $(or $(LOCALE),ja-JP)

## Install the test extras and run the whole test suite.
test: $(VENV)/.test
	scripts/ensure_chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check .

## Build the AWS Lambda artifact (the tree `sam build` deploys) as build/knee-routine-lambda.zip.
package: | $(BIN)/python
	$(BIN)/python scripts/package_lambda.py --zip build/knee-routine-lambda.zip

# `sam build` (template.yaml, BuildMethod: makefile) calls this with ARTIFACTS_DIR set.
build-KneeRoutineFunction:
	$(PYTHON) scripts/package_lambda.py --dir "$(ARTIFACTS_DIR)"

## Pin the Lambda's dependencies, with hashes, for python3.13 on arm64: requirements-lambda.lock.
lock: | $(BIN)/python
	$(BIN)/python -m pip install -q 'uv>=0.5,<1'
	$(BIN)/uv pip compile pyproject.toml --extra dynamodb --upgrade --generate-hashes \
	  --python-platform aarch64-manylinux2014 --python-version 3.13 \
	  --no-emit-package boto3 --no-emit-package botocore --no-emit-package s3transfer \
	  --no-emit-package jmespath --custom-compile-command 'make lock' \
	  --output-file requirements-lambda.lock

## Point interaction_models/skill.json at the stack's Lambda alias (publish.toml), or ENDPOINT=<arn|https url>.
endpoint: | $(BIN)/python
	$(BIN)/python scripts/set_endpoint.py $(if $(ENDPOINT),--endpoint '$(ENDPOINT)')

## Make interaction_models/skill.json ready for `ask deploy`: icons checked, document URLs from
## publish.toml, endpoint from the stack.
manifest: | $(BIN)/python
	$(BIN)/python scripts/make_icons.py --check
	$(BIN)/python scripts/set_document_urls.py
	$(MAKE) endpoint

## Benchmark against the ASK hello-world (about 5 minutes; not part of `make test`). Installs the
## test extras and wrk (apt); prints Markdown tables, writes bench/results/latest.json.
bench: $(VENV)/.test
	sh bench/install-wrk.sh
	$(BIN)/python -m pip install -q 'ask-sdk-dynamodb-persistence-adapter>=1.19,<2'  # the DynamoDB anchor
	$(BIN)/python -m bench.run

## Write interaction_models/interactionModels/custom/*.json from the phrase patterns in content/<locale>/.
sync-models: $(VENV)/.web
	$(BIN)/python -m skill.alexa.interaction_model sync

## Per-intent coverage of tests/phrasings/ with the simulator's NLU, and what it fails to understand.
nlu-report: $(VENV)/.web
	$(BIN)/python -m skill.simulator.nlu_report tests/phrasings

clean:
	rm -rf build dist .pytest_cache .ruff_cache
