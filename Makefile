# The two set-up commands of the README: `make dev` runs the service on the embedded PostgreSQL,
# `make test` runs lint, the type check (mypy) and the whole test suite. Both create .venv and
# install everything on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The tests run on TEST_WORKERS pytest-xdist processes, each with its own embedded PostgreSQL: the
# suite mostly waits (for the processes it starts, sockets, the database), so more workers than
# cores pay. TEST_WORKERS=0 runs it in one process. worksteal: a worker that runs out of tests takes
# some of another's queue, so the tests of a minute or more (fuzzers, worker fleets, the dashboard
# e2e) do not leave three workers idle while a fourth works through its share (--dist load hands
# each worker its share up front). Each worker's first chunk starts with its share of the known long
# tests (tests/slow_first.py, tests/slow_tests.txt): steals take the short ones at the back.
TEST_WORKERS ?= 4
TEST_DIST ?= worksteal

# Two recipes at a time: on a clean machine (CI) the venv's pip install, Debian's chromium and the
# dashboard's npm packages are made at once instead of one after the other (each mostly waits on
# its registry), and the checks `test` runs beside the suite (alert rules, lint) run together.
MAKEFLAGS += -j2

.PHONY: dev test lint format install chromium dashboard-test dashboard-install dashboard-check alert-rules-test any-hour log-probe

# pip compiles what it installs one file at a time (26 of its 41 s of CPU for `.[dev]`, before
# anything else can start); compileall writes the same bytecode on both cores (-j 0).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -e ".[dev]"
	$(BIN)/python -m compileall -q -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
	touch $(STAMP)

install: $(STAMP)

dev: $(STAMP)
	$(BIN)/medremind migrate
	$(BIN)/medremind dev

# `test` starts pytest once the venv, chromium and the dashboard's node packages are in place (tests
# look for them when collected), and runs the rest beside it: the dashboard's unit tests, build
# and bundle check, the alert rules, lint and mypy (about 2.5 minutes one after the other), which
# fill the part of 2 cores the suite leaves idle (it mostly waits on its processes). The
# dashboard's browser tests need the build: the lock they take before building it themselves
# (dashboard/.build-lock, tests/dashboard/test_dashboard_e2e.py) is taken here before pytest
# starts and let go once the build is checked (fd 9, closed in every command so that none of them
# keeps it). Their output is printed after pytest's; `test` fails when any of them fails.
test: $(STAMP) chromium dashboard-install
	@exec 9>dashboard/.build-lock; flock 9; \
	{ $(MAKE) --no-print-directory dashboard-check 9>&-; dashboard=$$?; exec 9>&-; \
	  $(MAKE) --no-print-directory alert-rules-test lint && [ $$dashboard = 0 ]; \
	} > .test-beside.log 2>&1 & \
	exec 9>&-; \
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist $(TEST_DIST); suite=$$?; \
	wait $$!; beside=$$?; \
	echo "--- beside the suite (dashboard-check alert-rules-test lint): exit $$beside"; \
	cat .test-beside.log; rm -f .test-beside.log; \
	[ $$suite = 0 ] && [ $$beside = 0 ]

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
# The browser e2e tests run under pytest (tests/dashboard), which `test` runs beside the last three.
dashboard-test: dashboard-install dashboard-check

dashboard-install: chromium
	cd dashboard && npm ci --no-audit --no-fund

dashboard-check:
	cd dashboard && npm test
	cd dashboard && NEXT_TELEMETRY_DISABLED=1 npm run build
	cd dashboard && npm run check-bundle

# Debian's chromium and chromium-headless-shell, installed only when missing (before pytest starts:
# the browser tests are skipped without a browser). The tests drive the headless shell, which
# costs a browser test less CPU (tests/chromium_binary.py); people look at the dashboard in chromium.
chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromium-headless-shell ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$$SUDO apt-get install -y -qq chromium chromium-headless-shell; \
	fi

# By hand, not in `test`: the suite (the browser tests too) with every process's clock moved to
# instants where time-dependent code breaks: night inside the default quiet hours, just before
# midnight UTC, just after it (a test's 'now + N days' then puts two reminders on one day), a DST
# change in Berlin, 29 February in New York, New Year's Eve where it is already next year. Needs
# Debian's faketime and a C compiler for the server's clock (tests/clock/wall_clock_offset.c),
# both installed when missing. ANY_HOUR_ARGS narrows the run.
ANY_HOUR_INSTANTS ?= 2026-12-04T03:00:00Z 2026-12-03T23:30:00Z 2026-12-04T00:30:00Z \
	2027-03-28T00:30:00Z@Europe/Berlin \
	2028-02-29T12:00:00Z@America/New_York 2026-12-31T23:59:00Z@Pacific/Kiritimati
# The browser tests run there too: node (`next start`, the dashboard's scripts, playwright-core)
# and Chromium run under libfaketime at the moved clock like the Python processes (session 25:
# tests/dashboard, tests/browser and the API docs page passed at 2026-12-04T03:00Z but for one
# page load over its 30 s at a load average of 19, which passed at 2026-12-31T23:59Z Kiritimati).
ANY_HOUR_ARGS ?=
any-hour: $(STAMP)
	@if ! command -v faketime >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq faketime; \
	fi
	@if ! command -v cc >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gcc libc6-dev; \
	fi
	@for spec in $(ANY_HOUR_INSTANTS); do \
		instant=$${spec%%@*}; zone=$${spec#*@}; [ "$$zone" = "$$spec" ] && zone=UTC; \
		$(BIN)/python tests/clock/run_at.py $$instant --tz $$zone -- \
			$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist $(TEST_DIST) $(ANY_HOUR_ARGS) || exit 1; \
	done

# By hand, not in `test`: the suite with every test's logs (INFO and up, formatted and redacted
# as production does) searched for the names, medicines and texts tests use (tests/log_probe.py).
log-probe: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/pytest -q -p no:cacheprovider -p tests.log_probe -n $(TEST_WORKERS) \
		--dist $(TEST_DIST) --ignore=tests/dashboard

# The Prometheus alert rules (ops/prometheus) and their unit tests, with Debian's promtool
# (package prometheus, installed only when missing).
alert-rules-test:
	@if ! command -v promtool >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus; \
	fi
	cd ops/prometheus && promtool check rules medremind-alerts.yml && promtool test rules medremind-alerts.test.yml
