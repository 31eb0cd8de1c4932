# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint install install-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# Upgrades the database, adds demo data to an empty roster, then runs every messenger that
# has a token, or the console chat when none has.
run: install
	$(BIN)/sotay db upgrade
	$(BIN)/sotay demo seed --if-empty
	$(BIN)/sotay run

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Content is checked like code: a broken handbook entry fails the build.
test: lint
	$(BIN)/sotay content check
	$(BIN)/pytest -q
