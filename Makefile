# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pip runs again only when pyproject.toml changes, so a second `make run` starts at once.
INSTALLED := $(VENV)/.installed
INSTALLED_TEST := $(VENV)/.installed-test
# The demo member `make console` chats as: member, secretary, trainer or admin.
AS ?= member

.PHONY: run console test lint install install-test demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The test extras include everything `make run` needs.
$(INSTALLED_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(INSTALLED)

install: $(INSTALLED)

install-test: $(INSTALLED_TEST)

# The database migrated, and demo data in an empty roster.
demo: $(INSTALLED)
	@$(BIN)/sotay db upgrade
	@$(BIN)/sotay demo seed --if-empty

# Runs every messenger that has a token, or the console chat as the demo member when none
# has. --demo migrates and seeds as `make demo` does, in the same process: a warm start
# pays for one interpreter, not three.
run: $(INSTALLED)
	@$(BIN)/sotay run --demo

# The console chat as the demo member holding a role: make console AS=secretary
console: $(INSTALLED)
	@$(BIN)/sotay console --demo --as $(AS)

lint: $(INSTALLED_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Content is checked like code: a broken handbook entry fails the build.
test: lint
	$(BIN)/sotay content check
	$(BIN)/pytest -q
