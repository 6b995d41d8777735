# Two commands on a fresh machine: `make run` (the bot) and `make test` (the tests);
# `make sandbox` tries the bot in the browser without Telegram.
# Both create the virtual environment in .venv on first use: `make run` installs only what
# running needs, `make test` adds the test tools (pytest, Playwright: a third of the size).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

.PHONY: run test sandbox migrate i18n

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/lapor-bot run

# Lint and import contracts first (seconds), so a wrong-way import fails CI before the tests run.
# The tests run in two processes (pytest-xdist): the end-to-end tests mostly wait on the bot's
# process, the in-process ones keep the other core busy; a worker that runs out of tests takes
# some from the other (worksteal: the end-to-end tests are slow). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

sandbox: $(RUN_STAMP)
	$(BIN)/lapor-bot sandbox

migrate: $(RUN_STAMP)
	$(BIN)/lapor-bot migrate

i18n: $(RUN_STAMP)
	PATH=$(BIN):$$PATH scripts/i18n-update
