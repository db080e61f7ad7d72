# The two commands that matter: `make run` and `make test`. Everything they need is installed by
# `make setup` (idempotent): uv (from PyPI), the locked Python environment, and the Neo4j jars
# (from Maven Central, via the machine's Java 17 + Maven).
SHELL := /bin/bash
PY ?= python3
UV_VERSION := 0.13.8
UV := $(PY) -m uv
MPDB := .venv/bin/mpdb
PROFILE ?= demo
SEED ?= 42

.PHONY: setup run test db-start db-stop seed schema serve sdl clean-state

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet
	@if [ -z "$$NEO4J_URI" ]; then $(MPDB) db provision; fi

## Set up, start the local Neo4j, apply the schema, load the `demo` data set, serve on :8000.
run: setup
	$(MPDB) db start
	$(MPDB) schema apply
	$(MPDB) seed --profile $(PROFILE) --seed $(SEED)
	$(MPDB) serve

## Run the whole test suite (starts its own Neo4j on a free port; never touches the dev data).
test: setup
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
