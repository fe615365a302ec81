"""Telegram paid broadcasts charged per clinic (migrations 20260101010250, 20260101012600): the
worker's :class:`platforms.telegram_bots.PaidCharges` charges each paid send to its clinic's
monthly allowance before it goes (``charge_telegram_paid``), counting it per minute and month;
``clinic_paid_broadcast`` sums a period, and a clinician reads only their own clinic's rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

from core.db import Database
from platforms.telegram_bots import PaidCharges
from tests import factories
from tests.integration.clinician import as_clinician

AT = datetime(2026, 3, 2, 8, 0, 12, tzinfo=UTC)


async def test_paid_sends_are_charged_to_their_clinic_within_its_allowance(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    paying = await factories.create_organization(
        admin_conn, telegram_paid_stars_monthly=Decimal("1.0")
    )
    none = await factories.create_organization(admin_conn)  # no allowance: never charged
    assert db.pool is not None
    charges = PaidCharges()
    charges.pool = db.pool
    assert await charges.charge(paying["id"], 2, AT)
    assert await charges.charge(paying["id"], 1, AT + timedelta(seconds=30))  # the same minute
    assert await charges.charge(paying["id"], 4, AT + timedelta(minutes=1))
    assert not await charges.charge(none["id"], 1, AT)
    assert charges.may_pay(paying["id"], 3) and not charges.may_pay(paying["id"], 4)
    assert not await charges.charge(paying["id"], 4, AT)  # 7 + 4 > 10 messages (1.0 Stars)
    assert await charges.charge(paying["id"], 3, AT)
    charges.refund(paying["id"], 2, AT)  # Telegram refused two: the clinic pays nothing for them
    await charges.flush()
    rows = await admin_conn.fetch(
        "select minute, messages from telegram_paid_usage where organization_id = $1"
        " order by minute",
        paying["id"],
    )
    minute = AT.replace(second=0)
    assert [(r["minute"], r["messages"]) for r in rows] == [
        (minute, 4),
        (minute + timedelta(minutes=1), 4),
    ]
    assert (
        await admin_conn.fetchval(
            "select messages from telegram_paid_months where organization_id = $1 and month = $2",
            paying["id"],
            AT.date().replace(day=1),
        )
        == 8
    )
    assert not await admin_conn.fetchval(
        "select count(*) from telegram_paid_usage where organization_id = $1", none["id"]
    )
    period = (AT - timedelta(hours=1), AT + timedelta(hours=1))
    total = await admin_conn.fetchrow(
        "select * from clinic_paid_broadcast($1, $2, $3)", paying["id"], *period
    )
    assert (total["messages"], float(total["stars"])) == (8, 0.8)
    # A new month starts with the whole allowance again.
    assert await charges.charge(paying["id"], 10, AT + timedelta(days=31))

    # A clinician of the paying clinic sees its Stars; one of another clinic sees none of them.
    mine = await factories.create_clinician(admin_conn, paying["id"])
    theirs = await factories.create_clinician(admin_conn, none["id"])
    async with db.pool.acquire() as conn:
        async with as_clinician(conn, mine["id"]):
            assert await conn.fetchval("select count(*) from telegram_paid_usage") == 3
            assert await conn.fetchval("select count(*) from telegram_paid_months") == 2
        async with as_clinician(conn, theirs["id"]):
            spied = await conn.fetchrow(
                "select * from clinic_paid_broadcast($1, $2, $3)", paying["id"], *period
            )
            assert spied["messages"] == 0
            assert not await conn.fetchval(
                "select count(*) from telegram_paid_months where organization_id = $1",
                paying["id"],
            )


async def test_workers_charging_at_once_never_overrun_the_allowance(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """Four workers (each its own PaidCharges, statements on their own connections) charge one
    clinic at once: exactly its allowance is granted, whatever their interleaving."""
    clinic = await factories.create_organization(
        admin_conn, telegram_paid_stars_monthly=Decimal("5.0")
    )
    assert db.pool is not None
    workers = [PaidCharges() for _ in range(4)]
    for worker in workers:
        worker.pool = db.pool
    granted = await asyncio.gather(
        *(w.charge(clinic["id"], 1, AT) for w in workers for _ in range(20))
    )
    assert sum(granted) == 50
    assert (
        await admin_conn.fetchval(
            "select messages from telegram_paid_months where organization_id = $1", clinic["id"]
        )
        == 50
    )
