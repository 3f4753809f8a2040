# Quietdesk: `make run` sets everything up and serves the app; `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
UV_HOME := .tools/uv
UV := $(UV_HOME)/bin/uv
SYNCED := $(VENV)/.synced
export PYTHONPATH := src
export UV_PROJECT_ENVIRONMENT := $(VENV)

PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_WORKERS ?= 2
CI ?=

.PHONY: help setup run serve migrate demo test lint typecheck checks test-sqlite test-postgres clean bench

help:
	@echo "make run    set up (venv, dependencies, database, demo data) and serve at http://127.0.0.1:8000"
	@echo "make test   set up and run ruff, mypy, Django checks and the tests on SQLite and PostgreSQL"
	@echo "make bench  run the benchmarks (see bench/README.md)"

# --- Setup ---------------------------------------------------------------------------------
$(UV):
	@py=$$(scripts/find-python) || exit 1; \
	echo "Installing uv $(UV_VERSION) into $(UV_HOME) (with $$py)"; \
	"$$py" -m venv $(UV_HOME) && $(UV_HOME)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(SYNCED): pyproject.toml uv.lock | $(UV)
	@py=$$(scripts/find-python) || exit 1; \
	if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then rm -rf $(VENV); fi; \
	$(UV) sync --locked --python "$$py" --quiet
	@touch $@

setup: $(SYNCED)

# --- Running -------------------------------------------------------------------------------
migrate: setup
	@$(BIN)/quietdesk migrate --noinput -v 0

demo: migrate
	@$(BIN)/quietdesk demo

run: demo
	@echo ""
	@echo "  Quietdesk is starting at  http://127.0.0.1:8000"
	@echo "  API documentation:        http://127.0.0.1:8000/api/v1/docs"
	@echo "  Demo logins (password: quietdesk-demo)"
	@echo "    admin     admin@quietdesk.example   (also http://127.0.0.1:8000/admin/)"
	@echo "    agent     camille@quietdesk.example"
	@echo "    customer  marie@atelier-boreal.example"
	@echo ""
	@QUIETDESK_DEBUG=$${QUIETDESK_DEBUG:-true} $(BIN)/quietdesk serve --host 127.0.0.1 --port 8000

# --- Checks and tests ------------------------------------------------------------------------
lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: setup
	$(BIN)/mypy src

checks: setup
	@$(BIN)/python scripts/check_translations.py
	@QUIETDESK_DATA_DIR=$$(mktemp -d) $(BIN)/quietdesk makemigrations --check --dry-run -v 1
	@QUIETDESK_DEBUG=false QUIETDESK_SECRET_KEY=check-deploy-$$(date +%s%N)-a-long-enough-random-value-for-django \
	  QUIETDESK_ALLOWED_HOSTS=quietdesk.example QUIETDESK_DATA_DIR=$$(mktemp -d) \
	  $(BIN)/quietdesk check --deploy --fail-level WARNING

test-sqlite: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres: setup
	@if $(BIN)/python scripts/service_up.py postgres "$(PG_TEST_URL)"; then \
	  echo "== tests on PostgreSQL ($(PG_TEST_URL))"; \
	  QUIETDESK_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider; \
	elif [ "$(CI)" = "true" ]; then echo "PostgreSQL is required in CI and is not reachable at $(PG_TEST_URL)"; exit 1; \
	else echo "== SKIPPED the PostgreSQL run: no PostgreSQL at $(PG_TEST_URL) (start it, or set PG_TEST_URL)"; fi

test: lint typecheck checks
	@export QUIETDESK_TEST_REDIS_URL="$(REDIS_TEST_URL)"; \
	echo "== tests on SQLite"; $(MAKE) --no-print-directory test-sqlite && $(MAKE) --no-print-directory test-postgres

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(UV_HOME) .mypy_cache .ruff_cache .pytest_cache tests/artifacts
