"""Retention (scheduler/retention.py) against real PostgreSQL: finished messages older than the
configured age go with their delivery attempts; recent ones and unfinished ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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


async def _webhook_event(
    conn: asyncpg.Connection, org: Any, subscription: Any, days_ago: int, status: str
) -> Any:
    at = NOW - timedelta(days=days_ago)
    event = await conn.fetchval(
        "insert into webhook_events (organization_id, event_type, payload, created_at)"
        " values ($1, 'message.status', '{}', $2) returning id",
        org,
        at,
    )
    delivery = await conn.fetchval(
        "insert into webhook_deliveries (organization_id, event_id, subscription_id, status,"
        " created_at) values ($1, $2, $3, $4, $5) returning id",
        org,
        event,
        subscription,
        status,
        at,
    )
    await conn.execute(
        "insert into webhook_delivery_attempts (delivery_id, attempted_at, status_code)"
        " values ($1, $2, 200)",
        delivery,
        at,
    )
    return event


async def test_every_growing_log_is_pruned_and_what_is_still_needed_stays(
    db: Database, admin_conn: asyncpg.Connection, monkeypatch
) -> None:
    """Issue 16: status callbacks, processed inbound updates, finished outgoing webhook events
    (with their deliveries and attempts) and Idempotency-Key answers were kept forever. Older
    than the retention age they go, in several batches each; an inbound update still to process
    and a webhook event still being delivered stay whatever their age; idempotency answers go
    after 30 days even with a longer retention age."""
    monkeypatch.setattr(retention, "BATCH", 2)
    org = (await factories.create_organization(admin_conn))["id"]
    patient = await factories.create_patient(admin_conn, org)
    old_message = await _message(admin_conn, patient, 40, "sent")
    for i, days_ago in enumerate((40, 40, 40, 3)):
        await admin_conn.execute(
            "insert into delivery_status_events (provider_message_id, status, received_at,"
            " applied_at) values ($1, 'delivered', $2, $2)",
            f"SM{i}",
            NOW - timedelta(days=days_ago),
        )
    # Callbacks no recorded send of their signer carries (a clinic's account calling back for
    # its other systems' messages, a storm of unknown ids): kept a year until retention took
    # them. After UNMATCHED_STATUS_DAYS their send will never be recorded: they go.
    for i, hours_ago in enumerate((24 * 3, 24 * 3, 24 * 3, 20)):
        await admin_conn.execute(
            "insert into delivery_status_events (provider_message_id, status, received_at)"
            " values ($1, 'delivered', $2)",
            f"SMunknown{i}",
            NOW - timedelta(hours=hours_ago),
        )
    for i, (days_ago, status) in enumerate(
        ((40, "processed"), (40, "processed"), (40, "failed"), (40, "received"), (3, "processed"))
    ):
        await admin_conn.execute(
            "insert into inbound_messages (channel, provider_message_id, chat_address, payload,"
            " received_at, status) values ('sms', $1, '+14155550100', '{}', $2, $3)",
            f"in-{i}",
            NOW - timedelta(days=days_ago),
            status,
        )
    subscription = await admin_conn.fetchval(
        "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
        " values ($1, 'https://clinic.example/hook', '{message.status}', 'whsec_x') returning id",
        org,
    )
    gone_events = [
        await _webhook_event(admin_conn, org, subscription, 40, status)
        for status in ("delivered", "failed", "cancelled")
    ]
    busy = await _webhook_event(admin_conn, org, subscription, 40, "pending")
    recent = await _webhook_event(admin_conn, org, subscription, 3, "delivered")
    for key, days_ago in (("a", 31), ("b", 31), ("c", 31), ("d", 29)):
        await admin_conn.execute(
            "insert into api_idempotency_keys (organization_id, key, request_fingerprint,"
            " response_status, response_body, created_at) values ($1, $2, 'f', 201, '{}', $3)",
            org,
            key,
            NOW - timedelta(days=days_ago),
        )
    for i, days_ago in enumerate((40, 40, 40, 3)):  # a paying clinic's paid broadcasts
        await admin_conn.execute(
            "insert into telegram_paid_usage (organization_id, minute, messages)"
            " values ($1, date_trunc('minute', $2::timestamptz), 7)",
            org,
            NOW - timedelta(days=days_ago, minutes=i),
        )
    assert db.pool is not None

    removed = await retention.prune_all(db.pool, NOW, 35)

    assert removed == {
        "prune_finished": 1,
        "prune_status_events": 3,
        "prune_inbound": 3,
        "prune_webhook_events": 3,
        "prune_idempotency_keys": 3,
        "prune_paid_usage": 3,
        "prune_unmatched_status_events": 3,
    }
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where id = $1", old_message
        )
        == 0
    )
    assert [
        r["provider_message_id"]
        for r in await admin_conn.fetch(
            "select provider_message_id from delivery_status_events order by 1"
        )
    ] == ["SM3", "SMunknown3"]
    inbound = await admin_conn.fetch("select provider_message_id from inbound_messages order by 1")
    assert [r["provider_message_id"] for r in inbound] == ["in-3", "in-4"]
    events = {r["id"] for r in await admin_conn.fetch("select id from webhook_events")}
    assert events == {busy, recent}
    assert not events & set(gone_events)
    # Deliveries and attempts of the deleted events went with them.
    assert await admin_conn.fetchval("select count(*) from webhook_deliveries") == 2
    assert await admin_conn.fetchval("select count(*) from webhook_delivery_attempts") == 2
    keys = await admin_conn.fetch("select key from api_idempotency_keys")
    assert [k["key"] for k in keys] == ["d"]
    assert await admin_conn.fetchval("select count(*) from telegram_paid_usage") == 1

    # Zero days keeps everything.
    assert await retention.prune_all(db.pool, NOW + timedelta(days=400), 0) == {}
    assert await admin_conn.fetchval("select count(*) from delivery_status_events") == 2
