# `make run` starts Pulse; `make test` runs the whole suite. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test schema chromium

# Front-end packages (the SDK and tracking script; the dashboard): their node_modules, from the lock files.
sdk/node_modules/.installed: sdk/package-lock.json
	npm --prefix sdk ci --no-audit --no-fund --loglevel=error
	touch $@

pulse/web/dashboard/node_modules/.installed: pulse/web/dashboard/package-lock.json
	npm --prefix pulse/web/dashboard ci --no-audit --no-fund --loglevel=error
	touch $@

NODE := sdk/node_modules/.installed pulse/web/dashboard/node_modules/.installed

# The browser tests drive Debian's Chromium (PULSE_CHROMIUM overrides its path).
chromium:
	@test -x "$${PULSE_CHROMIUM:-/usr/bin/chromium}" || { apt-get update -qq && apt-get install -y -qq chromium; }

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(BIN)/pulse serve

test: install $(NODE) chromium
	$(BIN)/ruff check pulse tests bench migrations
	npm --prefix sdk test --silent
	$(BIN)/pytest

schema: install
	$(BIN)/pulse export-schema > schema/schema.graphql
