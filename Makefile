# One command to run, one to test; each installs what it needs into .venv.
# Installs come from the lock files (every package pinned, with hashes), never from the
# ranges in pyproject.toml: requirements.lock is what the bot needs, requirements-dev.lock
# that plus the test and lint tools. `make lock` writes both from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# bash with pipefail: a failed pip install fails the target even with its output filtered.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# Leaves out pip's notes about missing local package folders (this machine's pip.conf).
QUIET := { grep -v "^WARNING: Location" || true; }
# Exactly the locked set (hashes checked), then the project itself without dependencies;
# `pip check` fails when pyproject.toml asks for something the lock does not have.
define install_locked
	$(PIP) install --require-hashes -r $(1) 2>&1 | $(QUIET)
	$(PIP) install --no-deps -e . 2>&1 | $(QUIET)
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; echo "$(1) is behind pyproject.toml: run make lock"; exit 1; }
endef

.PHONY: run test test-fast lint format bench bench-wave clean chat screenshots lock lock-upgrade

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The bot alone: what `make run` needs.
$(RUN_STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(call install_locked,requirements.lock)
	@$(BIN)/python -c "import botbuilder.core, tinydb" && touch $@

# The bot plus test and lint tools.
$(DEV_STAMP): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(call install_locked,requirements-dev.lock)
	@$(BIN)/python -c "import botbuilder.core, pytest, ruff, mypy" && touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python app.py

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

# The quick loop: model, dialog and most protocol tests, no processes, browsers or Azurite.
test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser and not azurite"

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(DEV_STAMP)
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/picture.py
	$(BIN)/python bench/turns.py --mix mixed,questions,checks --only stock,agents-echo,floor,bot,bot-nofsync,bot-blob --seconds 6 --rounds 2 --population 1000
	$(BIN)/python bench/scale.py --users 5000 --seconds 6 --rounds 2
	$(BIN)/python bench/nudges.py --users 1000 --rate 30 --quiet-seconds 8
	$(BIN)/python bench/wave_blob.py --tenants 10 --users-per-tenant 200

# A sector-wide nudge wave (50 tenants of 1,000 people; bench/nudges.py says what it prints),
# with the conversation references as the bot stores them.
bench-wave: $(DEV_STAMP)
	$(BIN)/python bench/nudges.py --tenants 50 --users-per-tenant 1000

chat: $(RUN_STAMP)
	$(BIN)/python app.py chat

screenshots: $(DEV_STAMP)
	$(BIN)/python docs/screenshots.py

# The lock files, from pyproject.toml's ranges, for every platform and Python 3.11 and later
# (environment markers where they differ). Pins already in the files are kept while they
# still fit; `make lock-upgrade` moves every pin to the newest version allowed. The tool
# (uv, pinned here) lives in its own venv and is needed only to write the locks.
UV_VERSION := 0.13.8
LOCK_TOOL := $(VENV)/lock-tool
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock"

$(LOCK_TOOL)/bin/uv:
	$(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/pip --quiet --disable-pip-version-check install "uv==$(UV_VERSION)" 2>&1 | $(QUIET)

lock: $(LOCK_TOOL)/bin/uv
	$(LOCK_TOOL)/bin/uv pip compile pyproject.toml --extra test --extra lint --extra train $(LOCK_FLAGS) $(UPGRADE) -o requirements-dev.lock
	$(LOCK_TOOL)/bin/uv pip compile pyproject.toml -c requirements-dev.lock $(LOCK_FLAGS) $(UPGRADE) -o requirements.lock

lock-upgrade:
	$(MAKE) lock UPGRADE=--upgrade

clean:
	rm -rf $(VENV) build *.egg-info
