"""The fleet loses its database mid-send for longer than the lease: what went is not sent again.

Two real ``medremind worker`` processes reach PostgreSQL through one loopback TCP proxy, which the
test cuts (every connection dropped, new ones refused) while their sends are in flight, for
longer than the lease, then restores. The sends end during the outage; their outcomes wait in the
workers' buffers while every lease runs out. When the database is back, a reaper that ran before
the worker's record returned the sent rows to pending and they went again. Now the worker's lease
keeper, retried every quarter second, renews its leases (or takes back a row the reaper returned
and nobody claimed yet) before the reapers, every half lease, and the claims get to them.
"""

from __future__ import annotations

import asyncio
import collections
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import asyncpg
import pytest

from core.db import init_connection
from medremind.worker_process import reaper_interval
from scheduler.fleet_clock import FleetClock
from scheduler.reaper import ReapJob
from tests.dispatch.test_processes import Workers, _insert_due, _wait_terminal
from tests.integration.test_database_startup_wait import _pipe, _through
from tests.ports import free_port

LEASE = 6.0  # a reaper every 3 s, sends of at most 2 s, a margin of 0.6 s
TOTAL = 40
SEND_SECONDS = 1.0


async def open_server(
    database_url: str,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the server ``database_url`` names (its socket directory or host:port)."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or "localhost"
    port = int(query.get("port") or parts.port or 5432)
    if host.startswith("/"):
        return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
    return await asyncio.open_connection(host, port)


class CutProxy:
    """A TCP port forwarding to the test's PostgreSQL that :meth:`cut` takes away."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = _through(self.port, database_url)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        """Listen (again) on the proxy's port."""

        async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            server_r, server_w = await open_server(self.database_url)
            self._writers |= {client_w, server_w}
            await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))

        self._server = await asyncio.start_server(forward, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Refuse new connections and drop every open one."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[CutProxy]:
    cut = CutProxy(database_url)
    await cut.open()
    try:
        yield cut
    finally:
        if cut._server is not None:
            await cut.cut()


@pytest.fixture
def fleet(proxy: CutProxy, tmp_path: Path) -> Iterator[Workers]:
    """Workers that reach the database through the proxy."""
    workers = Workers(proxy.url, tmp_path)
    try:
        yield workers
    finally:
        workers.kill_all()


async def test_sends_that_ended_in_an_outage_longer_than_the_lease_go_once(
    admin_conn: asyncpg.Connection, fleet: Workers, proxy: CutProxy
) -> None:
    options = {"lease": LEASE, "delay": SEND_SECONDS, "batch": 50, "concurrency": 64}
    for name in ("A", "B"):
        fleet.start(name, **options)
    await fleet.wait_ready(admin_conn)
    ended = await _cut_mid_send(admin_conn, fleet, proxy)
    await asyncio.sleep(1.5 * LEASE)  # every lease runs out
    await proxy.open()

    twice = await _sent_again(admin_conn, fleet)
    print(f"\n{ended} sends ended in a {1.5 * LEASE:.0f} s outage: {twice} sent again")
    assert twice == 0, ("sent again", fleet.stderr("A"), fleet.stderr("B"))
    await _stop(fleet)


async def test_a_reaper_that_runs_as_the_database_comes_back_spares_the_live_workers_rows(
    admin_conn: asyncpg.Connection, fleet: Workers, proxy: CutProxy, database_url: str
) -> None:
    """The race the keepers' quarter second left: a worker's reap job (here the test's, through
    the same proxy, as a third worker's) whose pass comes first after the outage. It used to
    return every sent row to pending, and a listening worker that kept its database (C, not
    through the proxy) claimed and sent them again before the keepers took them back."""
    options = {"lease": LEASE, "delay": SEND_SECONDS, "batch": 50, "concurrency": 64}
    for name in ("A", "B"):
        fleet.start(name, **options)
    await fleet.wait_ready(admin_conn)
    async with asyncpg.create_pool(
        proxy.url, min_size=1, max_size=2, init=init_connection, server_settings={"timezone": "UTC"}
    ) as pool:
        clock = FleetClock()
        await clock.sync(pool)
        job = ReapJob(pool, clock.now, LEASE, reaper_interval(LEASE))
        assert await job.run_once() is None  # a process's first pass only looks
        await _cut_mid_send(admin_conn, fleet, proxy)
        # C starts now, on the database directly; its own reaper has not reaped by the test's
        # end (a long lease): the test's is the one that runs first.
        through_proxy, fleet.database_url = fleet.database_url, database_url
        fleet.start("C", **{**options, "lease": 10 * LEASE})
        fleet.database_url = through_proxy
        await fleet.wait_ready(admin_conn)
        assert await job.run_once() is None  # its pass in the outage fails
        while await admin_conn.fetchval(  # every lease has run out
            "select count(*) from scheduled_messages where locked_until > clock_timestamp()"
        ):
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        await proxy.open()
        reaped = await job.run_once()  # first after the return, before the keepers
        twice = await _sent_again(admin_conn, fleet)
    print(f"\nthe pass at the return reaped {reaped}; {twice} sent again")
    assert reaped is None
    assert twice == 0, ("sent again", fleet.stderr("A"), fleet.stderr("B"))
    await _stop(fleet)


async def _sent_again(admin_conn: asyncpg.Connection, fleet: Workers) -> int:
    """Once every row is finished (each must be sent): how many sends went again."""
    counts = await _wait_terminal(admin_conn, TOTAL, fleet, timeout=120)
    assert counts == {"sent": TOTAL}, counts
    sends = collections.Counter(message_id for message_id, _, _ in fleet.sends())
    return sum(n - 1 for n in sends.values() if n > 1)


async def _cut_mid_send(admin_conn: asyncpg.Connection, fleet: Workers, proxy: CutProxy) -> int:
    """TOTAL messages due, claimed by the fleet; the proxy cut while sends are in flight (begun,
    not ended); until every send begun by then has ended (in the outage). Returns how many
    ended in it.

    On a loaded machine some sends have not begun a third of a second after the last claim:
    their check before the send (scheduler/send_checks.py) fails in the outage and puts them
    back unsent, to go after it. The test waited for all TOTAL to be sent in the outage, and
    failed ("not sent") in 2 of ~14 runs beside other tests. It then cut a third of a send after
    the last claim, and under load (tests/dispatch beside busy processes) no send was in flight
    then ("no send ended in the outage", 2 tests of 3 runs): now it cuts when one is."""
    await _insert_due(admin_conn, TOTAL, patients=10)
    deadline = time.monotonic() + 120
    # All claimed (on a loaded machine the first sends may be recorded before the last claim).
    while (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where status in ('processing', 'sent')"
        )
        < TOTAL
    ):
        assert time.monotonic() < deadline, ("not claimed", fleet.stderr("A"), fleet.stderr("B"))
        await asyncio.sleep(0.02)
    while fleet.started() <= len(fleet.sends()):  # none in flight (checked, not ended)
        assert time.monotonic() < deadline, ("no send in flight", fleet.stderr("A"))
        await asyncio.sleep(0.01)
    await proxy.cut()
    # Read after the cut: a send that ends after this ended in the outage.
    before, begun = len(fleet.sends()), fleet.started()
    while len(fleet.sends()) < begun:  # what was begun by the cut ends (a send takes 1 s)
        assert time.monotonic() < deadline, ("sends did not end", fleet.stderr("A"))
        await asyncio.sleep(0.05)
    ended = len(fleet.sends()) - before
    assert ended > 0, ("no send ended in the outage", fleet.stderr("A"), fleet.stderr("B"))
    return ended


async def _stop(fleet: Workers) -> None:
    """SIGTERM each worker: each must be gone within Heroku's 30 s (it SIGKILLs then). One still
    running 10 s and 20 s on prints its tasks' awaits (SIGUSR1, tests/dispatch/worker_entry.py),
    so a failure shows what it waited for."""
    for proc in fleet.procs.values():
        proc.terminate()
    began = time.monotonic()
    for dump_at in (10.0, 20.0, 30.0):
        while any(p.poll() is None for p in fleet.procs.values()):
            if time.monotonic() - began >= dump_at:
                break
            await asyncio.sleep(0.1)
        hung = [name for name, p in fleet.procs.items() if p.poll() is None]
        if not hung or dump_at == 30.0:
            break
        for name in hung:
            fleet.procs[name].send_signal(signal.SIGUSR1)
    print(f"stopped in {time.monotonic() - began:.1f} s")
    if hung:
        await asyncio.sleep(1)
    assert not hung, [fleet.stderr(name) for name in hung]
    assert all(p.returncode == 0 for p in fleet.procs.values())
