"""``scheduler.record_session.RecordSession``: the dispatcher's records on connections of their own,
planned once per session, one statement each; a connection whose record failed is never reused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest

from core.db import Database
from platforms.base import Channel
from scheduler.claims import AttemptRow, Outcome
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.record_session import RecordSession
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.dispatch.test_dispatcher import eventually
from tests.dispatch.test_record_statement import NOW, _claimed


class Opened:
    """``Database.connect`` that remembers the connections it opened."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conns: list[asyncpg.Connection] = []

    async def __call__(self) -> asyncpg.Connection:
        conn = await self.db.connect()
        self.conns.append(conn)
        return conn


@pytest.fixture
async def opened(db: Database) -> AsyncIterator[Opened]:
    """The connections a test's session opened; all closed once it closed the session."""
    connections = Opened(db)
    yield connections
    assert all(c.is_closed() for c in connections.conns)


@pytest.fixture
async def session(db: Database, opened: Opened) -> AsyncIterator[RecordSession]:
    assert db.pool is not None
    records = RecordSession(db.pool, opened, size=2)
    try:
        yield records
    finally:
        await records.aclose()


async def _status(admin: asyncpg.Connection, outcomes: list[Outcome]) -> list[str]:
    rows = await admin.fetch(
        "select status from scheduled_messages where id = any($1::uuid[])", [o.id for o in outcomes]
    )
    return sorted(r["status"] for r in rows)


async def test_records_commit_on_a_connection_of_their_own_planned_once(
    session: RecordSession, opened: Opened, admin_conn: asyncpg.Connection
) -> None:
    first, second = await _claimed(admin_conn, 2), await _claimed(admin_conn, 1)
    attempts = [AttemptRow(o.id, NOW, "sent", "sms") for o in first]
    assert await session.record(first, attempts) == {o.id for o in first}
    assert await session.record(second, []) == {second[0].id}
    # Both on the one connection, which asked for generic plans for its session, holds
    # no transaction, and whose records another connection sees committed.
    assert len(opened.conns) == 1
    conn = opened.conns[0]
    assert not conn.is_in_transaction()
    assert await conn.fetchval("show plan_cache_mode") == "force_generic_plan"
    assert await conn.fetchval("select current_user") == "medremind_app"
    assert await _status(admin_conn, first + second) == ["sent"] * 3
    count = "select count(*) from message_delivery_attempts where message_id = any($1::uuid[])"
    assert await admin_conn.fetchval(count, [o.id for o in first]) == 2
    # The lease is gone: the same outcomes again change nothing.
    assert await session.record(first, []) == set()


async def test_a_failed_record_drops_its_connection_and_the_next_opens_another(
    session: RecordSession, opened: Opened, admin_conn: asyncpg.Connection
) -> None:
    outcomes = await _claimed(admin_conn, 2)
    # An attempt for a message that does not exist fails the whole statement.
    bad = [AttemptRow(uuid4(), NOW, "sent", "sms")]
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await session.record(outcomes, bad)
    assert opened.conns[0].is_closed()
    assert await _status(admin_conn, outcomes) == ["processing"] * 2
    assert await session.record(outcomes, []) == {o.id for o in outcomes}
    assert len(opened.conns) == 2 and not opened.conns[1].is_closed()


async def test_records_in_flight_at_once_each_have_a_connection_up_to_the_size(
    session: RecordSession, opened: Opened, admin_conn: asyncpg.Connection
) -> None:
    batches = [await _claimed(admin_conn, 1) for _ in range(4)]
    # Held by a lock on the table, the first two records wait on two connections; the
    # others wait for one of them, not for a connection of their own.
    async with admin_conn.transaction():
        await admin_conn.execute("lock table message_delivery_attempts in exclusive mode")
        records = [
            asyncio.create_task(session.record(b, [AttemptRow(b[0].id, NOW, "sent", "sms")]))
            for b in batches
        ]

        async def both_open() -> bool:
            return len(opened.conns) == 2

        await eventually(both_open)
        await asyncio.sleep(0.2)  # a third connection would have been asked for by now
        assert len(opened.conns) == 2
        assert not any(r.done() for r in records)
    applied = await asyncio.wait_for(asyncio.gather(*records), timeout=30)
    assert applied == [{b[0].id} for b in batches]
    assert len(opened.conns) == 2


async def test_without_connect_records_go_through_the_pool(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    assert db.pool is not None
    session = RecordSession(db.pool)
    outcomes = await _claimed(admin_conn, 2)
    assert await session.record(outcomes, []) == {o.id for o in outcomes}
    assert await _status(admin_conn, outcomes) == ["sent"] * 2
    await session.aclose()


async def test_the_workers_records_outlive_the_loss_of_their_connection(
    admin_conn: asyncpg.Connection, db: Database
) -> None:
    """With ``connect`` (``medremind worker``) the dispatcher records on connections of its own:
    one killed by the server (a failover, an administrator) fails one flush, whose outcomes are
    written on a new connection; none is left open when the dispatcher stops."""
    sender = RecordingSender(Channel.TELEGRAM)
    config = DispatcherConfig(
        worker_id="test-worker", platform_rates={}, recipient_rates={}, poll_seconds=0.2
    )
    assert db.pool is not None
    dispatcher = Dispatcher(
        db.pool,
        {Channel.TELEGRAM: sender},
        None,
        lambda: datetime.now(UTC),
        config,
        connect=db.connect,
    )
    recording = (
        "select pid from pg_stat_activity where query like '-- Apply a batch of outcomes%'"
        " and pid <> pg_backend_pid()"
    )
    patient = await factories.create_patient(admin_conn)
    ids = []
    running = asyncio.create_task(dispatcher.run())
    try:
        for count in (1, 2, 3):
            message = await factories.create_message(
                admin_conn, patient["id"], message_content=f"Message {count}", urgent=True
            )
            ids.append(message["id"])

            async def recorded(message_id: UUID = message["id"]) -> bool:
                status = "select status from scheduled_messages where id = $1"
                return await admin_conn.fetchval(status, message_id) == "sent"

            await eventually(recorded, timeout=30)
            pids = await admin_conn.fetch(recording)
            assert len(pids) == 1  # the records' own connection, not a pooled one
            await admin_conn.execute("select pg_terminate_backend($1)", pids[0]["pid"])
    finally:
        dispatcher.request_stop()
        await running
    assert [m.text for _, m in sender.sends] == ["Message 1", "Message 2", "Message 3"]
    attempts = "select count(*) from message_delivery_attempts where message_id = any($1::uuid[])"
    assert await admin_conn.fetchval(attempts, ids) == 3

    async def closed() -> bool:
        return not await admin_conn.fetch(recording)

    await eventually(closed)
