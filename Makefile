# allegro-sync developer entry points. Needs only make and Python >= 3.11 on PATH.
#   make demo    the end-to-end demo against the bundled Allegro emulator
#   make test    lint, type-check and the test suite (creates .venv on first use)
#   make lint    ruff + mypy only
#   make bench   the benchmark scenarios
#   make state-example   rewrite state.db.example from a short scripted demo run
#   make crash-campaign  the long crash campaign: ROUNDS=10000 kill/restart rounds over WORLDS=8 worlds, JOBS=2 at a time
#   make clean   remove .venv and tool caches;  make clean-demo  removes the demo's state files

SHELL := /bin/sh
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# python3.11 if present, else python3 when it is 3.11 or newer.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || \
	{ python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v python3; })
LINT_PATHS := engine adapters emulator tests
TYPED_PATHS := engine adapters emulator

.PHONY: help install lint test demo bench state-example crash-campaign clean clean-demo

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed: install python3.11 (or a python3 >= 3.11)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies (pyproject.toml) change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[mysql,postgres,dev]'
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy $(TYPED_PATHS)

test: lint
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/allegro-sync demo

bench: $(STAMP)
	$(BIN)/python -m bench

crash-campaign: $(STAMP)
	$(BIN)/python -m tests.reliability.long_campaign --rounds $(or $(ROUNDS),10000) \
		--shards $(or $(WORLDS),8) --jobs $(or $(JOBS),2) --seed $(or $(SEED),7)

state-example: $(STAMP)
	$(BIN)/python -m demo.state_example state.db.example

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-demo:
	rm -rf demo-run logs state.db state.db-wal state.db-shm state.db.lock warehouse.db warehouse.db-wal warehouse.db-shm tokens.json
