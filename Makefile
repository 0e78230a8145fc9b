# gatehouse — developer entry points. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= ./var

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install gatehouse with its pinned dependencies

run: $(STAMP) ## initialise the store if needed and serve WHM on 2086 (HTTP) and 2087 (HTTPS)
	$(BIN)/gatehouse --data-dir $(DATA_DIR) init --if-needed
	$(BIN)/gatehouse --data-dir $(DATA_DIR) serve

test: $(STAMP) ## run the whole suite on SQLite and PostgreSQL (PostgreSQL, Chromium, dig, PowerDNS, Pebble, HAProxy and Node.js are set up when possible)
	@scripts/ensure-chromium
	@scripts/ensure-test-tools
	@eval "$$(scripts/ensure-postgres)"; \
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, mypy (strict) and the import contracts of the architecture (lint-imports)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(STAMP) ## regenerate the README's function table from the registry
	$(BIN)/python -m gatehouse.whm.catalogue --write

screenshots: $(STAMP) ## PNGs of the main WHM and cPanel pages in docs/screenshots/ (needs chromium)
	@scripts/ensure-chromium
	$(BIN)/python scripts/screenshots.py docs/screenshots

bench: $(STAMP) ## performance benchmarks (see docs/performance.md)
	$(BIN)/python -m bench

.PHONY: help install run test lint docs bench screenshots
