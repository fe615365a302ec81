"""A worker SIGTERMed while its database does not answer at all (no reset, no refusal) must stop.

The loopback proxy of the outage tests refuses and resets, so every database call fails at once;
a database behind a network partition or a failed-over address answers nothing, and a connection
waits. Found by s28-h4: a real ``medremind worker`` (tests/dispatch/worker_entry.py) whose proxy
stops forwarding (existing connections go silent, new ones are accepted and never answered),
SIGTERMed 3 s later, was still running 70 s after (Heroku kills at 30 s): asyncpg, releasing a
connection whose statement was cancelled (the render-ahead pass, the housekeeping jobs), waits
for a CancelRequest on a new connection that never answers; the LISTEN reconnects wait 60 s in
``asyncpg.connect``; the final heartbeat and ``Pool.close()`` have no bound. Now the stop aborts
every database connection once it has lasted its grace plus ``_STOP_MARGIN_SECONDS``
(medremind/stop_deadline.py) and exits 0; the reaper returns what was not recorded.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from tests.dispatch.test_outage_mid_send import open_server
from tests.dispatch.test_processes import Workers, _insert_due
from tests.integration.test_database_startup_wait import _through
from tests.ports import free_port

LEASE = 6.0
GRACE = 5.0


class SilentProxy:
    """Forwards to the test's PostgreSQL until :meth:`silence`; then nothing more is forwarded
    on any connection, and new ones are accepted and never answered (packets dropped)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = _through(self.port, database_url)
        self._silent = asyncio.Event()
        self._server: asyncio.Server | None = None

    def silence(self) -> None:
        self._silent.set()

    async def open(self) -> None:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    if self._silent.is_set():
                        await asyncio.Event().wait()  # swallowed, forever
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass

        async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            if self._silent.is_set():
                await asyncio.Event().wait()  # accepted, never answered
            server_r, server_w = await open_server(self.database_url)
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

        self._server = await asyncio.start_server(forward, "127.0.0.1", self.port)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


async def test_a_worker_stops_within_30_s_while_its_database_is_silent(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    proxy = SilentProxy(database_url)
    await proxy.open()
    workers = Workers(proxy.url, tmp_path)
    try:
        workers.start("A", lease=LEASE, delay=1.0, batch=50, concurrency=8, grace=GRACE)
        await workers.wait_ready(admin_conn)
        await _insert_due(admin_conn, 20, patients=5)
        deadline = time.monotonic() + 60
        # Some rows claimed and being sent. Not all 20 at once: the worker claims what its
        # sends take, and on a loaded machine its first sends were recorded before a poll saw
        # all 20 processing ("not claimed" after 60 s in one CI run).
        while not await admin_conn.fetchval(
            "select exists (select from scheduled_messages where status = 'processing')"
        ):
            assert time.monotonic() < deadline, ("not claimed", workers.stderr("A"))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # sends under way
        proxy.silence()
        await asyncio.sleep(3)
        worker = workers.procs["A"]
        began = time.monotonic()
        worker.terminate()
        while worker.poll() is None and time.monotonic() - began < 30:
            await asyncio.sleep(0.1)
        if worker.poll() is None:
            worker.send_signal(signal.SIGUSR1)  # its tasks' awaits, into the failure
            await asyncio.sleep(1)
        assert worker.poll() == 0, workers.stderr("A")
        # Its waits ended at the stop deadline, the grace and 2 s: about 7 s from SIGTERM to exit
        # alone on the machine; the rest of the 30 s is for the interpreter's exit (its garbage
        # collection took seconds at nice 19 beside other tests: 24 s in all once).
        log = (tmp_path / "A.stderr").read_text(errors="replace")
        assert 'aborting its connections", "after_seconds": 7.0' in log, workers.stderr("A")
    finally:
        workers.kill_all()
        proxy.close()


async def test_terminate_ends_every_wait_on_a_silent_database(
    settings: Settings, database_url: str
) -> None:
    """What the stop deadline relies on: after ``Database.terminate`` a statement in flight, a
    pool connect and a ``connect()`` to a silent server all fail at once, and the pool closes."""
    proxy = SilentProxy(database_url)
    await proxy.open()
    db = Database(settings, url=proxy.url)
    try:
        await db.start()
        assert db.pool is not None
        pool = db.pool
        held = await pool.acquire()  # the pool's one idle connection is busy: acquire connects
        proxy.silence()
        waits = [
            asyncio.create_task(held.fetchval("select 1")),
            asyncio.create_task(pool.fetchval("select 1")),
            asyncio.create_task(db.connect()),
        ]
        await asyncio.sleep(1)
        assert not any(w.done() for w in waits)
        began = time.monotonic()
        db.terminate()
        results = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 2)
        errors = (asyncpg.InterfaceError, asyncpg.ConnectionDoesNotExistError)
        assert all(isinstance(r, errors) for r in results), results
        with pytest.raises(asyncpg.InterfaceError):
            await db.connect()
        await asyncio.wait_for(db.stop(), 1)
        assert time.monotonic() - began < 2
    finally:
        proxy.close()
