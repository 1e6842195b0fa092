# The two commands of the README: `make run` serves Kiruna with demo data and its five siblings
# as peers, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CITY ?= kiruna
IDEAS ?= 2000
SIBLING_IDEAS ?= 1000
PORT ?= 5000

.PHONY: run test install lint translations benchmarks

$(BIN)/innoplat: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/innoplat

run: install
	$(BIN)/innoplat demo --city $(CITY) --ideas $(IDEAS) --siblings $(SIBLING_IDEAS)
	$(BIN)/innoplat serve --city $(CITY) --port $(PORT)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core plugins
