"""``/metrics`` while the database does not answer: the backlog is unknown, not what it last was.

Found by stopping PostgreSQL for 30 s under two ``medremind web`` processes: the due backlog and
its lag kept the values of the last scrape that read them (0 due, 0 s late), so the lag alert
could not fire through the outage and nothing on ``/metrics`` said the figures were stale. Now
they are NaN and ``medremind_database_up`` is 0 until a read answers again.

Against a real ``medremind web``: the backlog's table is held by a lock past the scrape's 2 s
timeout (what a database that stopped answering looks like to the scrape).
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests import factories
from tests.web.processes import StartWeb

# The database's part of a scrape is reused for 5 s (medremind/web/metrics.py).
PAST_REUSE_WINDOW_S = 5.5


def _value(text: str, series: str) -> float:
    """The sample of ``series`` (name with labels, as exposed) in a scrape."""
    (line,) = [line for line in text.splitlines() if line.startswith(series + " ")]
    return float(line.split()[-1])


async def test_backlog_is_nan_and_database_down_while_the_database_does_not_answer(
    web_process: StartWeb, database_url: str, admin_conn: asyncpg.Connection
) -> None:
    _, base = await web_process()
    patient = await factories.create_patient(admin_conn)
    late = datetime.now(UTC) - timedelta(minutes=10)
    await factories.create_message(admin_conn, patient["id"], platform="sms", scheduled_time=late)
    due, age = (
        'medremind_due_messages{platform="sms"}',
        'medremind_due_oldest_age_seconds{platform="sms"}',
    )
    holder = await asyncpg.connect(database_url)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            before = (await http.get("/metrics")).text
            assert _value(before, due) == 1 and _value(before, age) >= 590

            await asyncio.sleep(PAST_REUSE_WINDOW_S)
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute("lock table message_queue in access exclusive mode")
            during = await http.get("/metrics")
            await transaction.rollback()
            assert during.status_code == 200
            for series in (due, age, "medremind_inbound_unprocessed"):
                assert math.isnan(_value(during.text, series)), series
            assert _value(during.text, "medremind_database_up") == 0

            await asyncio.sleep(PAST_REUSE_WINDOW_S)
            after = (await http.get("/metrics")).text
            assert _value(after, "medremind_database_up") == 1
            assert _value(after, due) == 1 and _value(after, age) >= 590
    finally:
        await holder.close()
