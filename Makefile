# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint bench package sync-models clean

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

## Install the test extras and run the whole test suite.
test: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check .

## Fill the FAQ_TOPIC slot type of interaction_models/*.json from content/*/faq.yaml.
sync-models: $(VENV)/.web
	$(BIN)/python -m skill.models sync

clean:
	rm -rf build dist .pytest_cache .ruff_cache
