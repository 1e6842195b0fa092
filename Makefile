# The two commands of the README: `make run` serves Kiruna with demo data and its five siblings
# as peers, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CITY ?= kiruna
IDEAS ?= 2000
SIBLING_IDEAS ?= 1000
PORT ?= 5000
PYBABEL ?= $(BIN)/pybabel
PLUGINS_WITH_CATALOGS := $(sort $(notdir $(patsubst %/translations,%,$(wildcard plugins/*/translations))))
# One extraction for every catalog: sorted, no source locations (they would change with every
# edit), lines of at most 100 characters. Plugins also mark strings with translate(locale, msgid).
EXTRACT := extract -F translations/babel.cfg -k lazy_gettext -k _l --sort-output --no-location -w 100

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

# One test process per core, at most four (pytest-xdist: each starts its own PostgreSQL and
# Chromium); each test file runs whole in one of them, so its module fixtures are built once.
# The 15 slowest tests are listed at the end. `make test JOBS=0` runs everything in one process.
JOBS ?= auto
test: install
	$(BIN)/python -m pytest -n $(JOBS) --maxprocesses=4 --dist loadfile --durations=15

# Re-extract the interface strings and update core's and every plugin's catalogs from them.
# The templates (.pot) are build output in build/translations/; on an unchanged tree the
# catalogs come out byte for byte as they are kept (tests/web/test_catalogs.py checks it).
translations: | $(BIN)/innoplat
	mkdir -p build/translations
	$(PYBABEL) -q $(EXTRACT) --project innoplat -o build/translations/messages.pot core
	$(BIN)/python translations/update.py build/translations/messages.pot translations
	for plugin in $(PLUGINS_WITH_CATALOGS); do \
	    $(PYBABEL) -q $(EXTRACT) -k translate:2 --project $$plugin \
	        -o build/translations/$$plugin.pot plugins/$$plugin && \
	    $(BIN)/python translations/update.py build/translations/$$plugin.pot \
	        plugins/$$plugin/translations || exit 1; \
	done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy core plugins
