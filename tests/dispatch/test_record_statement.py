"""``scheduler.claims.record`` runs in its own short transaction with a generic plan, and leaves the
connection as it found it: committed on success, rolled back on error, and inside a caller's
transaction it neither commits nor changes the caller's settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from core.db import CUSTOM_PLANS
from scheduler.claims import AttemptRow, Outcome, claim, record
from tests import factories

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


async def _claimed(conn: asyncpg.Connection, count: int) -> list[Outcome]:
    patient = await factories.create_patient(conn)
    for _ in range(count):
        await factories.create_message(
            conn, patient["id"], scheduled_time=NOW - timedelta(seconds=1)
        )
    claims = await claim(conn, now=NOW, limit=count, worker="w", lease_seconds=60)
    return [Outcome(c.id, c.lease_token, "sent", sent_at=NOW, channel_used="sms") for c in claims]


async def _connect(database_url: str) -> asyncpg.Connection:
    # As the worker's connections: every other statement planned with its values.
    return await asyncpg.connect(database_url, server_settings=dict(CUSTOM_PLANS))


async def test_record_commits_and_leaves_the_connection_as_it_was(database_url: str) -> None:
    conn = await _connect(database_url)
    try:
        outcomes = await _claimed(conn, 3)
        attempts = [AttemptRow(o.id, NOW, "sent", "sms") for o in outcomes]
        assert await record(conn, outcomes, attempts) == {o.id for o in outcomes}
        assert not conn.is_in_transaction()
        assert await conn.fetchval("show plan_cache_mode") == "force_custom_plan"
        assert (
            await conn.fetchval("select count(*) from scheduled_messages where status = 'sent'")
            == 3
        )
        assert await conn.fetchval("select count(*) from message_delivery_attempts") == 3
        # Again, now that the connection has the statement prepared: the lease is gone.
        assert await record(conn, outcomes, []) == set()
    finally:
        await conn.close()


async def test_a_failed_record_rolls_back_and_leaves_no_transaction(database_url: str) -> None:
    conn = await _connect(database_url)
    try:
        outcomes = await _claimed(conn, 2)
        # An attempt for a message that does not exist fails the whole statement.
        bad = [AttemptRow(uuid4(), NOW, "sent", "sms")]
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await record(conn, outcomes, bad)
        assert not conn.is_in_transaction()
        assert (
            await conn.fetchval(
                "select count(*) from scheduled_messages where status = 'processing'"
            )
            == 2
        )
        assert await record(conn, outcomes, []) == {o.id for o in outcomes}
    finally:
        await conn.close()


async def test_record_inside_a_callers_transaction_is_the_callers(database_url: str) -> None:
    conn = await _connect(database_url)
    try:
        outcomes = await _claimed(conn, 1)
        transaction = conn.transaction()
        await transaction.start()
        assert await record(conn, outcomes, []) == {outcomes[0].id}
        assert conn.is_in_transaction()
        assert await conn.fetchval("show plan_cache_mode") == "force_custom_plan"
        await transaction.rollback()  # the caller's rollback undoes it: record did not commit
        status = "select status from scheduled_messages where id = $1"
        assert await conn.fetchval(status, outcomes[0].id) == "processing"
    finally:
        await conn.close()


async def test_a_sends_own_attempt_is_folded_into_its_outcome_and_written_as_it_was(
    database_url: str,
) -> None:
    """A sent message's attempt that repeats its outcome (time, channel, provider id) goes as the
    outcome's duration; every other attempt as it is: the rows written are the attempts given,
    also when the lease was lost."""
    conn = await _connect(database_url)
    try:
        first, second, lost = await _claimed(conn, 3)
        later = NOW + timedelta(seconds=1)
        outcomes = [
            first._replace(provider_message_id="p1"),
            second._replace(provider_message_id="p2"),
            lost._replace(lease_token=uuid4(), provider_message_id="p3"),
            lost._replace(lease_token=uuid4(), provider_message_id="p3"),  # given twice: once
        ]
        attempts = [
            AttemptRow(first.id, NOW, "failed", "telegram", "transient", "timed out", None, 30),
            AttemptRow(first.id, NOW, "sent", "sms", None, None, "p1", 40),  # folded
            AttemptRow(first.id, NOW, "sent", "sms", None, None, "p1", 41),  # a second: as is
            AttemptRow(second.id, later, "sent", "sms", None, None, "p2", 50),  # another time
            AttemptRow(second.id, NOW, "sent", "sms", None, None, "p2", None),  # no duration
            AttemptRow(lost.id, NOW, "sent", "sms", None, None, "p3", 60),  # folded, lease lost
        ]
        assert await record(conn, outcomes, attempts) == {first.id, second.id}
        rows = await conn.fetch(
            "select message_id, attempt_time, status, channel, error_class, error_message,"
            " provider_message_id, duration_ms from message_delivery_attempts"
        )
        key = str
        assert sorted(map(tuple, rows), key=key) == sorted(map(tuple, attempts), key=key)
    finally:
        await conn.close()
