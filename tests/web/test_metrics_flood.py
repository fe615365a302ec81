"""``/metrics`` and ``/readyz`` answer anyone: a flood of them reads the database once, not once
per request.

Each scrape read the due backlog, the inbound backlog, the planner's and the fleet's heartbeats
from the database; during the morning peak the backlog query walks every due message, and a
client asking many times a second (no credential needed) multiplied that work without bound. The
database's part is now read by one scrape at a time and reused for a few seconds. ``/readyz``
likewise read the applied migrations and hashed every migration file for each probe.

Against a real ``medremind web``: the table read is held by a lock while 20 requests come in at
once; how many of the web's queries wait on it is counted in ``pg_stat_activity``.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx

from tests.web.processes import StartWeb


async def _flood_while_held(
    base: str, database_url: str, admin_conn: asyncpg.Connection, path: str, table: str
) -> tuple[int, list[httpx.Response]]:
    """20 requests to ``path`` at once while ``table`` is locked: how many of the web's queries
    waited on the lock, and the answers once it is released."""
    waiting_on_it = (
        "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
        f" and query like '%{table}%' and pid <> pg_backend_pid()"
    )
    holder = await asyncpg.connect(database_url)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            assert (await http.get(path)).status_code == 200  # warm: the app is up
            await asyncio.sleep(6)  # past the reuse window: the next request reads again
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute(f"lock table {table} in access exclusive mode")
            requests = [asyncio.create_task(http.get(path)) for _ in range(20)]
            deadline = time.monotonic() + 30
            while await admin_conn.fetchval(waiting_on_it) == 0:
                assert time.monotonic() < deadline, "no request reached the database"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # let every request that would query get there
            waiting = await admin_conn.fetchval(waiting_on_it)
            await transaction.rollback()
            return waiting, list(await asyncio.gather(*requests))
    finally:
        await holder.close()


async def test_many_scrapes_at_once_read_the_database_once(
    web_process: StartWeb, database_url: str, admin_conn: asyncpg.Connection
) -> None:
    _, base = await web_process(MEDREMIND_DB_POOL_MAX="8")
    waiting, answers = await _flood_while_held(
        base, database_url, admin_conn, "/metrics", "message_queue"
    )
    assert waiting == 1
    assert all(a.status_code == 200 for a in answers)
    assert all("medremind_due_messages" in a.text for a in answers)


async def test_many_readiness_probes_at_once_read_the_database_once(
    web_process: StartWeb, database_url: str, admin_conn: asyncpg.Connection
) -> None:
    _, base = await web_process(MEDREMIND_DB_POOL_MAX="8")
    waiting, answers = await _flood_while_held(
        base, database_url, admin_conn, "/readyz", "medremind_migrations"
    )
    assert waiting == 1
    assert {a.status_code for a in answers} <= {200, 503}  # the held read may time out
