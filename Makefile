# The two commands that matter: `make run` and `make test`. Everything they need is installed by
# `make setup` (idempotent): uv (from PyPI), the locked Python environment, the console's front-end
# files (npm, from mpdb/console/assets/package-lock.json, vendored into mpdb/console/static/vendor)
# and the Neo4j jars (from Maven Central, via the machine's Java 17 + Maven). `make test` also
# installs Debian's chromium for the browser tests (`make browser`).
SHELL := /bin/bash
PY ?= python3
UV_VERSION := 0.13.8
UV := $(PY) -m uv
MPDB := .venv/bin/mpdb
PROFILE ?= demo
SEED ?= 42

.PHONY: setup run test browser screenshots console-assets db-start db-stop seed schema serve sdl clean-state

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet
	@$(MAKE) --no-print-directory console-assets
	@if [ -z "$$NEO4J_URI" ]; then $(MPDB) db provision; fi

ASSETS := mpdb/console/assets
## The console's JS/CSS from npm, exactly as locked; re-installed only when the lockfile changes.
console-assets: $(ASSETS)/node_modules/.package-lock.json
	@.venv/bin/python -m mpdb.console.assets.vendor
$(ASSETS)/node_modules/.package-lock.json: $(ASSETS)/package-lock.json
	@cd $(ASSETS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## Debian's chromium for the browser tests (Playwright drives it by path; no browser download).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@$(CHROMIUM) --version

## Set up, load the `demo` data set, serve on :8000. `mpdb seed` starts the local Neo4j when it is
## not running; into an empty one it loads with neo4j-admin's offline importer, then applies the schema.
run: setup
	$(MPDB) seed --profile $(PROFILE) --seed $(SEED)
	$(MPDB) schema apply
	$(MPDB) serve

## Run the whole test suite (starts its own Neo4j on a free port; never touches the dev data).
test: setup browser
	.venv/bin/pytest $(PYTEST_ARGS)

db-start: setup
	$(MPDB) db start
db-stop:
	$(MPDB) db stop
schema:
	$(MPDB) schema apply
seed:
	$(MPDB) seed --profile $(PROFILE) --seed $(SEED)
serve:
	$(MPDB) serve
## Regenerate the checked-in SDL after changing the GraphQL schema.
sdl:
	$(MPDB) export-schema

## Re-take the README's console screenshots (real chromium over the demo data).
screenshots: setup browser
	MPDB_SCREENSHOT_DIR=docs/screenshots .venv/bin/pytest tests/browser/test_console_pages.py -q
