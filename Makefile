# `make run` starts Pulse; `make test` runs the whole suite. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test schema

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(BIN)/pulse serve

test: install
	$(BIN)/ruff check pulse tests bench migrations
	$(BIN)/pytest

schema: install
	$(BIN)/pulse export-schema > schema/schema.graphql
