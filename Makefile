# The two set-up commands of the README: `make dev` runs the service on the embedded PostgreSQL,
# `make test` runs lint, the type check (mypy) and the whole test suite. Both create .venv and
# install everything on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint format install dashboard-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(BIN)/medremind migrate
	$(BIN)/medremind dev

test: $(STAMP) dashboard-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The clinician dashboard: Debian's chromium for the browser tests (installed only when missing),
# the locked node packages, unit tests of the pure modules (node --test), a type-checked production
# build, and the check that the client bundle holds no database URL, service_role key or password.
# The browser e2e test runs under pytest (tests/dashboard), which `test` runs after this.
dashboard-test:
	@if [ ! -x /usr/bin/chromium ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi
	cd dashboard && npm ci --no-audit --no-fund
	cd dashboard && npm test
	cd dashboard && NEXT_TELEMETRY_DISABLED=1 npm run build
	cd dashboard && npm run check-bundle
