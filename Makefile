# One command to run, one to test; each installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test test-fast lint format bench bench-wave clean chat screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The bot alone: what `make run` needs.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e . 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import botbuilder.core, tinydb" && touch $@

# The bot plus test and lint tools.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[test,lint]" 2>&1 | grep -v "^WARNING: Location" || true
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

clean:
	rm -rf $(VENV) build *.egg-info
