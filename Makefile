# Two commands on a fresh machine: `make run` (the bot) and `make test` (the tests);
# `make sandbox` tries the bot in the browser without Telegram.
# Both create the virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test sandbox migrate i18n

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/lapor-bot run

# Lint and import contracts first (seconds), so a wrong-way import fails CI before the tests run.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

sandbox: $(STAMP)
	$(BIN)/lapor-bot sandbox

migrate: $(STAMP)
	$(BIN)/lapor-bot migrate

i18n: $(STAMP)
	PATH=$(BIN):$$PATH scripts/i18n-update
