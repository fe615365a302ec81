"""A dispatcher whose records failed through an outage stops at once when asked, once back.

While the database is away the flusher retries its records with a growing backoff (up to 5 s,
``dispatcher._DB_RETRY_MAX_SECONDS``). When it comes back, the lease keeper's first renewal wakes
the flusher, which starts a flush; but the loop then computes the next backoff from the failures
counted so far (the flush in flight has not succeeded yet) and sits it out, 5 s, whatever happens
meanwhile: the flush succeeds, more outcomes arrive, SIGTERM comes. A worker stopped right after
an outage took 5-7 s to exit (every run of tests/dispatch/test_outage_mid_send.py, "stopped in
5.x s"), and outcomes that ended in those seconds waited for them. Now the flush's success and
the shutdown end the backoff (Dispatcher._flush, Dispatcher._shutdown).

Real PostgreSQL through a loopback proxy the test cuts; the dispatcher the worker runs, in this
process, so that its stop is timed without a process's start and exit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from core.db import init_connection
from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.fleet_clock import FleetClock
from tests.dispatch.recording import RecordingSender
from tests.dispatch.test_outage_mid_send import CutProxy, proxy  # noqa: F401 (a fixture)
from tests.dispatch.test_processes import _counts, _insert_due

LEASE = 6.0
TOTAL = 20
SEND_SECONDS = 1.0
# Records fail at 0.2, 0.4, 0.8, 1.6, 3.2 and then every 5 s: an outage this long reaches 5 s.
OUTAGE_SECONDS = 7.0


@pytest.fixture
async def pool(proxy: CutProxy) -> AsyncIterator[asyncpg.Pool]:  # noqa: F811 (the fixture)
    """The dispatcher's pool, through the proxy."""
    async with asyncpg.create_pool(
        proxy.url, min_size=1, max_size=4, init=init_connection, server_settings={"timezone": "UTC"}
    ) as pool:
        yield pool


async def test_a_dispatcher_stopped_right_after_an_outage_does_not_sit_out_its_backoff(
    admin_conn: asyncpg.Connection,
    pool: asyncpg.Pool,
    proxy: CutProxy,  # noqa: F811 (the fixture)
) -> None:
    clock = FleetClock()
    await clock.sync(pool)
    sender = RecordingSender(Channel.TELEGRAM, delay=SEND_SECONDS)
    config = DispatcherConfig(
        worker_id="stopper",
        batch_size=50,
        lease_seconds=LEASE,
        poll_seconds=0.5,
        shutdown_grace_seconds=5.0,
        platform_rates={},
        recipient_rates={},
    )
    dispatcher = Dispatcher(pool, {Channel.TELEGRAM: sender}, TemplateRenderer(), clock.now, config)
    running = asyncio.create_task(dispatcher.run())
    try:
        await _insert_due(admin_conn, TOTAL, patients=5)
        deadline = time.monotonic() + 60
        while sender.calls < TOTAL:  # every send under way (its check before it done)
            assert time.monotonic() < deadline, "not sent"
            await asyncio.sleep(0.01)
        await proxy.cut()
        await asyncio.sleep(OUTAGE_SECONDS)  # the sends end; their records fail meanwhile
        assert len(sender.sends) == TOTAL
        await proxy.open()
        while (await _counts(admin_conn)).get("sent", 0) < TOTAL:
            assert time.monotonic() < deadline, "not recorded"
            await asyncio.sleep(0.02)

        asked = time.monotonic()
        dispatcher.request_stop()
        await asyncio.wait_for(asyncio.shield(running), timeout=30)
        took = time.monotonic() - asked
    finally:
        dispatcher.request_stop()
        await asyncio.gather(running, return_exceptions=True)
    print(f"\nstopped {took:.2f} s after the request, the outage's records written")
    assert took < 1.5
