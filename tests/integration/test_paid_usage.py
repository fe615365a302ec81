"""Telegram paid broadcasts counted per clinic (migration 20260101010250): the worker's
:class:`platforms.telegram_bots.PaidUsage` adds them per minute, ``clinic_paid_broadcast`` sums a
period, and a clinician reads only their own clinic's rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from core.db import Database
from platforms.telegram_bots import PaidUsage
from tests import factories
from tests.integration.clinician import as_clinician

AT = datetime(2026, 3, 2, 8, 0, 12, tzinfo=UTC)


async def test_paid_usage_adds_up_per_clinic_and_minute_and_stays_in_its_clinic(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    paying = await factories.create_organization(admin_conn)
    other = await factories.create_organization(admin_conn)
    usage = PaidUsage()
    usage.add(paying["id"], AT, 2)
    usage.add(paying["id"], AT + timedelta(seconds=30), 1)  # the same minute
    usage.add(paying["id"], AT + timedelta(minutes=1), 4)
    usage.add(other["id"], AT, 5)
    assert db.pool is not None
    assert await usage.write(db.pool) == 12
    assert await usage.write(db.pool) == 0  # nothing counted twice
    usage.add(paying["id"], AT, 1)
    await usage.write(db.pool)  # a later write adds to the minute's row
    rows = await admin_conn.fetch(
        "select minute, messages from telegram_paid_usage where organization_id = $1"
        " order by minute",
        paying["id"],
    )
    assert [(r["minute"], r["messages"]) for r in rows] == [
        (AT.replace(second=0), 4),
        (AT.replace(second=0) + timedelta(minutes=1), 4),
    ]
    period = (AT - timedelta(hours=1), AT + timedelta(hours=1))
    total = await admin_conn.fetchrow(
        "select * from clinic_paid_broadcast($1, $2, $3)", paying["id"], *period
    )
    assert (total["messages"], float(total["stars"])) == (8, 0.8)

    # A clinician of the paying clinic sees its Stars; one of another clinic sees none of them.
    mine = await factories.create_clinician(admin_conn, paying["id"])
    theirs = await factories.create_clinician(admin_conn, other["id"])
    async with db.pool.acquire() as conn:
        async with as_clinician(conn, mine["id"]):
            assert await conn.fetchval("select count(*) from telegram_paid_usage") == 2
        async with as_clinician(conn, theirs["id"]):
            spied = await conn.fetchrow(
                "select * from clinic_paid_broadcast($1, $2, $3)", paying["id"], *period
            )
            assert spied["messages"] == 0
