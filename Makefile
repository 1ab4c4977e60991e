# `make run` starts Pulse; `make test` runs the whole suite. Both install what they need first.
PYTHON ?= python3
# .ci/run points VENV at a fresh environment.
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Every Python package, runtime and test extra, at the versions CI passed with (`make lock`).
LOCK := requirements.lock

.PHONY: install lock run test schema chromium

# Front-end packages (the SDK and tracking script; the dashboard; GraphiQL and the REST docs): their node_modules, from the lock files.
sdk/node_modules/.installed: sdk/package-lock.json
	npm --prefix sdk ci --no-audit --no-fund --loglevel=error
	touch $@

pulse/web/dashboard/node_modules/.installed: pulse/web/dashboard/package-lock.json
	npm --prefix pulse/web/dashboard ci --no-audit --no-fund --loglevel=error
	touch $@

pulse/web/ide/node_modules/.installed: pulse/web/ide/package-lock.json
	npm --prefix pulse/web/ide ci --no-audit --no-fund --loglevel=error
	touch $@

NODE := sdk/node_modules/.installed pulse/web/dashboard/node_modules/.installed pulse/web/ide/node_modules/.installed

# The browser tests drive Debian's Chromium (PULSE_CHROMIUM overrides its path).
chromium:
	@test -x "$${PULSE_CHROMIUM:-/usr/bin/chromium}" || { apt-get update -qq && apt-get install -y -qq chromium; }

# The lock's exact versions (with hashes), then Pulse itself without resolving again.
$(INSTALLED): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

install: $(INSTALLED)

# Re-resolve the lock from pyproject.toml: pins already in it are kept unless
# `make lock LOCK_ARGS=--upgrade` (or `--upgrade-package NAME`). No index or local path is written into it.
lock:
	test -x $(BIN)/pip-compile || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet pip-tools; }
	$(BIN)/pip-compile --quiet --extra test --strip-extras --allow-unsafe --generate-hashes \
	  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS) -o $(LOCK) pyproject.toml

run: install
	$(BIN)/pulse serve

test: install $(NODE) chromium
	$(BIN)/ruff check pulse tests bench migrations
	npm --prefix sdk test --silent
	$(BIN)/pytest

schema: install
	$(BIN)/pulse export-schema > schema/schema.graphql
