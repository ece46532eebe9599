# One command to run, one to test; each installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean chat screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/picture.py
	$(BIN)/python bench/turns.py --seconds 6
	$(BIN)/python bench/scale.py --users 5000 --seconds 6 --rounds 2
	$(BIN)/python bench/nudges.py --users 1000 --rate 50 --quiet-seconds 8

chat: $(STAMP)
	$(BIN)/python app.py chat

screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info
