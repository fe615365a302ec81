"""``/metrics`` answers anyone: a flood of scrapes reads the database once, not once per scrape.

Each scrape read the due backlog, the inbound backlog, the planner's and the fleet's heartbeats
from the database; during the morning peak the backlog query walks every due message, and a
client asking many times a second (no credential needed) multiplied that work without bound. The
database's part is now read by one scrape at a time and reused for a few seconds.

Against a real ``medremind web``: the backlog table is held by a lock while 20 scrapes come in
at once; how many of the web's queries wait on it is counted in ``pg_stat_activity``.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx

from tests.web.processes import StartWeb


async def _waiting(conn: asyncpg.Connection) -> int:
    return await conn.fetchval(
        "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
        " and query like '%message_queue%' and pid <> pg_backend_pid()"
    )


async def test_many_scrapes_at_once_read_the_database_once(
    web_process: StartWeb, database_url: str, admin_conn: asyncpg.Connection
) -> None:
    _, base = await web_process(MEDREMIND_DB_POOL_MAX="8")
    holder = await asyncpg.connect(database_url)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            assert (await http.get("/metrics")).status_code == 200  # warm: the app is up
            await asyncio.sleep(6)  # past the reuse window: the next scrape reads again
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute("lock table message_queue in access exclusive mode")
            scrapes = [asyncio.create_task(http.get("/metrics")) for _ in range(20)]
            deadline = time.monotonic() + 30
            while await _waiting(admin_conn) == 0:
                assert time.monotonic() < deadline, "no scrape reached the database"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # let every scrape that would query get there
            waiting = await _waiting(admin_conn)
            await transaction.rollback()
            answers = await asyncio.gather(*scrapes)
    finally:
        await holder.close()
    assert waiting == 1
    assert all(a.status_code == 200 for a in answers)
    assert all("medremind_due_messages" in a.text for a in answers)
