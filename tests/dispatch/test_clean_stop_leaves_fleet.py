"""A worker that stops cleanly leaves ``medremind_fleet_workers_alive`` at once.

Operator run: a worker stopped by SIGTERM (a deploy, scaling down) was still counted alive on the
web's /metrics for 60 s, until its last heartbeat aged: a deploy showed twice the fleet, and the
absence of every worker (MedremindWorkerAbsent) showed a minute late. Its last heartbeat now says
it stopped (migration 20260101016600); its counters stay for rates.

The real worker (``serve``, stopped as its signal handler stops it), the web's fleet metrics
and ``medremind check``'s query over the real database.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg

from core.settings import Settings
from core.sql import query
from medremind.web.fleet_metrics import ALIVE_SECONDS, fleet_metrics
from medremind.worker_process import serve
from tests.waiting import eventually


def _alive(metrics: bytes) -> int:
    found = re.search(rb"^medremind_fleet_workers_alive (\S+)$", metrics, re.M)
    assert found is not None, metrics
    return int(float(found.group(1)))


async def test_a_cleanly_stopped_worker_is_not_alive(
    settings: Settings, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(serve(settings, install_signal_handlers=False, stop=stop))
    try:

        async def heard() -> bool:
            return await admin_conn.fetchval("select count(*) from worker_heartbeats") == 1

        await eventually(heard, timeout=60)
        assert _alive(await fleet_metrics(admin_conn)) == 1
        running = await admin_conn.fetch(query("dispatch", "fleet_breakers"), ALIVE_SECONDS)
        assert len(running) == 1
    finally:
        stop.set()
        assert await asyncio.wait_for(worker, 60) == 0
    metrics = await fleet_metrics(admin_conn)
    assert _alive(metrics) == 0
    assert b"medremind_fleet_worker_silent_seconds{worker=" in metrics  # still listed
    assert await admin_conn.fetch(query("dispatch", "fleet_breakers"), ALIVE_SECONDS) == []
    row = await admin_conn.fetchrow("select seen_at, stopped_at from worker_heartbeats")
    assert row["stopped_at"] == row["seen_at"]
