"""Retention (scheduler/retention.py) against real PostgreSQL: finished messages older than the
configured age go with their delivery attempts; recent ones and unfinished ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from core.db import Database
from scheduler import retention
from scheduler.retention import prune_finished
from tests import factories

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def _message(conn: asyncpg.Connection, patient: asyncpg.Record, days_ago: int, status: str):
    row = await factories.create_message(
        conn,
        patient["id"],
        scheduled_time=NOW - timedelta(days=days_ago),
        status=status,
        sent_at=NOW - timedelta(days=days_ago) if status == "sent" else None,
    )
    if status == "sent":
        await conn.execute(
            "insert into message_delivery_attempts (message_id, attempt_time, status, channel)"
            " values ($1, $2, 'sent', 'telegram')",
            row["id"],
            NOW - timedelta(days=days_ago),
        )
    return row["id"]


async def test_old_finished_messages_go_with_their_attempts(
    db: Database, admin_conn: asyncpg.Connection, monkeypatch
) -> None:
    patient = await factories.create_patient(admin_conn)
    old = [await _message(admin_conn, patient, 40, "sent") for _ in range(5)]
    old.append(await _message(admin_conn, patient, 40, "failed"))
    recent = await _message(admin_conn, patient, 10, "sent")
    waiting = await _message(admin_conn, patient, 40, "pending")
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches, as a large backlog would take
    assert db.pool is not None

    assert await prune_finished(db.pool, NOW, 30) == 6

    left = {r["id"] for r in await admin_conn.fetch("select id from scheduled_messages")}
    assert left == {recent, waiting}
    attempts = await admin_conn.fetch("select message_id from message_delivery_attempts")
    assert [a["message_id"] for a in attempts] == [recent]
    assert not set(old) & left


async def test_zero_days_keeps_everything(db: Database, admin_conn: asyncpg.Connection) -> None:
    patient = await factories.create_patient(admin_conn)
    await _message(admin_conn, patient, 4000, "sent")
    assert db.pool is not None
    assert await prune_finished(db.pool, NOW, 0) == 0
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 1
