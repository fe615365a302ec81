"""The worker's reap job spares leases the live workers' keepers have not had the database to renew.

After a database outage longer than the lease's margin, a live worker's lease keeper renews (or
takes back) its rows within a quarter second of the return; a reap job that ran first returned
them to pending, and a listening worker sent them again. The job (``scheduler/reaper.py:
ReapJob``) now reaps only leases that expired more than ``expired_for`` ago, and only when its
previous pass reached the database on time: the pass that finds the database back only looks.

Real PostgreSQL through a loopback proxy the test cuts; the fleet's and the job's own clocks are
the test's. A dead worker's rows still come back, later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest

from core.db import init_connection
from scheduler.claims import claim
from scheduler.reaper import ReapJob
from tests.dispatch.test_message_queue import NOW, _due_messages
from tests.dispatch.test_outage_mid_send import CutProxy, proxy  # noqa: F401 (a fixture)

LEASE = 6.0
INTERVAL = 3.0  # medremind.worker_process.reaper_interval(LEASE)


@pytest.fixture
async def pool(proxy: CutProxy) -> AsyncIterator[asyncpg.Pool]:  # noqa: F811 (the fixture)
    """A pool through the proxy, as a worker's."""
    async with asyncpg.create_pool(
        proxy.url, min_size=1, max_size=2, init=init_connection, server_settings={"timezone": "UTC"}
    ) as pool:
        yield pool


class Clocks:
    """The fleet's time (datetime) and the job's monotonic seconds, moved by the test."""

    def __init__(self) -> None:
        self.fleet = NOW
        self.mono = 1000.0

    def at(self, mono: float, fleet_seconds: float) -> None:
        self.mono = 1000.0 + mono
        self.fleet = NOW + timedelta(seconds=fleet_seconds)


async def _processing(conn: asyncpg.Connection) -> set[UUID]:
    rows = await conn.fetch("select id from scheduled_messages where status = 'processing'")
    return {r["id"] for r in rows}


async def test_a_dead_workers_leases_come_back_after_the_spare_time(
    admin_conn: asyncpg.Connection,
    pool: asyncpg.Pool,
) -> None:
    await _due_messages(admin_conn, 3)
    claims = await claim(admin_conn, now=NOW, limit=3, worker="dead", lease_seconds=LEASE)
    t = Clocks()
    job = ReapJob(pool, lambda: t.fleet, LEASE, INTERVAL, monotonic=lambda: t.mono)
    assert job.expired_for == pytest.approx(INTERVAL + 2 * (0.25 + LEASE / 10))

    t.at(0, LEASE + 60)  # a process's first pass only looks, however long ago leases ended
    assert await job.run_once() is None
    t.at(INTERVAL, LEASE + 1)  # expired a second ago: a keeper may not have had its chance
    assert await job.run_once() == 0
    assert await _processing(admin_conn) == {c.id for c in claims}
    t.at(2 * INTERVAL, LEASE + job.expired_for + 0.1)
    assert await job.run_once() == 3
    assert await _processing(admin_conn) == set()


async def test_the_pass_that_finds_the_database_back_only_looks(
    admin_conn: asyncpg.Connection,
    pool: asyncpg.Pool,
    proxy: CutProxy,  # noqa: F811 (the fixture)
) -> None:
    t = Clocks()
    job = ReapJob(pool, lambda: t.fleet, LEASE, INTERVAL, monotonic=lambda: t.mono)
    t.at(0, 0)
    assert await job.run_once() is None
    t.at(INTERVAL, 0)
    assert await job.run_once() == 0

    await _due_messages(admin_conn, 2)
    claims = await claim(admin_conn, now=NOW, limit=2, worker="live", lease_seconds=LEASE)
    await proxy.cut()  # the fleet loses its database; the leases run out meanwhile
    for n in (2, 3, 4):
        t.at(n * INTERVAL, n * INTERVAL)
        assert await job.run_once() is None
    await proxy.open()
    # Back: long expired leases, but the keepers have not had their quarter second yet.
    t.at(5 * INTERVAL, LEASE + 3 * INTERVAL)
    assert await job.run_once() is None
    assert await _processing(admin_conn) == {c.id for c in claims}
    # An interval later the keepers have had the database: what is still expired is dead.
    t.at(6 * INTERVAL, LEASE + 4 * INTERVAL)
    assert await job.run_once() == 2


async def test_a_pass_that_comes_late_only_looks(
    admin_conn: asyncpg.Connection,
    pool: asyncpg.Pool,
) -> None:
    """A pass held up (a statement waiting out an outage, a stalled process) is not trusted: the
    database may just have come back to the keepers too."""
    await _due_messages(admin_conn, 1)
    await claim(admin_conn, now=NOW, limit=1, worker="live", lease_seconds=LEASE)
    t = Clocks()
    job = ReapJob(pool, lambda: t.fleet, LEASE, INTERVAL, monotonic=lambda: t.mono)
    t.at(0, 0)
    assert await job.run_once() is None
    t.at(4 * INTERVAL, LEASE + 60)  # three ticks missed
    assert await job.run_once() is None
    t.at(5 * INTERVAL, LEASE + 61)
    assert await job.run_once() == 1
