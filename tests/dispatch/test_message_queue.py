"""The dispatcher's queue (``message_queue``, migration 20260101011000) follows every writer of
``scheduled_messages``; a claim takes from it without waiting on a message another transaction
holds; the claim's and the record's updates of the wide row are HOT (no index entries); status
callbacks find their message through its attempt rows (migration 20260101011010)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from scheduler.claims import AttemptRow, Outcome, claim, next_due, record
from scheduler.reaper import reap_expired_leases
from tests import factories

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


async def _queue(conn: asyncpg.Connection) -> dict[Any, tuple[int, datetime, datetime | None]]:
    rows = await conn.fetch("select * from message_queue")
    return {r["message_id"]: (r["priority"], r["scheduled_time"], r["locked_until"]) for r in rows}


async def _unfinished(conn: asyncpg.Connection) -> dict[Any, tuple[int, datetime, datetime | None]]:
    """What the queue must hold: every pending or processing row, leased or not."""
    rows = await conn.fetch(
        "select id, priority, scheduled_time, status, locked_until from scheduled_messages"
        " where status in ('pending', 'processing')"
    )
    return {
        r["id"]: (
            r["priority"],
            r["scheduled_time"],
            r["locked_until"] if r["status"] == "processing" else None,
        )
        for r in rows
    }


async def test_the_queue_follows_every_writer(admin_conn: asyncpg.Connection) -> None:
    conn = admin_conn
    patient = await factories.create_patient(conn)
    due = NOW - timedelta(seconds=1)
    ids = [
        (await factories.create_message(conn, patient["id"], scheduled_time=due, priority=p))["id"]
        for p in (5, 1, 5, 5, 5)
    ]
    assert await _queue(conn) == await _unfinished(conn)
    assert len(await _queue(conn)) == 5
    assert await next_due(conn) == due

    # Claimed in priority order; the lease is in the queue.
    claims = await claim(conn, now=NOW, limit=3, worker="w", lease_seconds=60)
    assert claims[0].id == ids[1]
    assert await _queue(conn) == await _unfinished(conn)
    assert {k for k, v in (await _queue(conn)).items() if v[2] is not None} == {
        c.id for c in claims
    }

    # Recorded: sent leaves the queue, a retry goes back pending at its new time.
    retry_at = NOW + timedelta(minutes=5)
    outcomes = [
        Outcome(claims[0].id, claims[0].lease_token, "sent", sent_at=NOW, channel_used="sms"),
        Outcome(claims[1].id, claims[1].lease_token, "pending", next_time=retry_at),
    ]
    assert await record(conn, outcomes, []) == {claims[0].id, claims[1].id}
    queue = await _queue(conn)
    assert claims[0].id not in queue
    assert queue[claims[1].id] == (claims[1].priority, retry_at, None)
    assert queue == await _unfinished(conn)

    # The reaper returns an expired lease through the queue's lease index.
    assert await reap_expired_leases(conn, NOW + timedelta(seconds=61)) == 1
    assert (await _queue(conn))[claims[2].id][2] is None
    assert await _queue(conn) == await _unfinished(conn)

    # A cancel, a re-plan, a priority change, a delete, a bot reply inserted already leased.
    await conn.execute("update scheduled_messages set status = 'cancelled' where id = $1", ids[3])
    await conn.execute(
        "update scheduled_messages set scheduled_time = $2, priority = 0 where id = $1",
        ids[4],
        NOW + timedelta(hours=1),
    )
    await conn.execute("delete from scheduled_messages where id = $1", claims[1].id)
    await factories.create_message(
        conn,
        patient["id"],
        status="processing",
        locked_by="reply:web",
        locked_until=NOW + timedelta(seconds=30),
        lease_token=patient["id"],
    )
    # A cancelled row planned again (the planner's upsert).
    await conn.execute("update scheduled_messages set status = 'pending' where id = $1", ids[3])
    assert await _queue(conn) == await _unfinished(conn)
    assert len(await _queue(conn)) == 4

    await conn.execute("truncate scheduled_messages cascade")
    assert await _queue(conn) == {}
    assert await next_due(conn) is None


async def test_a_claim_skips_a_message_another_transaction_holds(
    database_url: str, admin_conn: asyncpg.Connection
) -> None:
    """A writer holding a pending message (a cancel through the API, a re-plan) and then
    touching its queue row must not deadlock with a claim that took that queue row first."""
    patient = await factories.create_patient(admin_conn)
    held, free = [
        (
            await factories.create_message(
                admin_conn, patient["id"], scheduled_time=NOW - timedelta(seconds=s)
            )
        )["id"]
        for s in (2, 1)
    ]
    writer = await asyncpg.connect(database_url)
    claimer = await asyncpg.connect(database_url)
    try:
        async with writer.transaction():
            # The writer holds the message row, not yet its queue row.
            await writer.execute("select 1 from scheduled_messages where id = $1 for update", held)
            async with claimer.transaction():
                claims = await asyncio.wait_for(
                    claim(claimer, now=NOW, limit=10, worker="w", lease_seconds=60), 10
                )
                assert [c.id for c in claims] == [free]
                # Now the writer's cancel needs the queue row the claim still holds: it waits
                # for the claim's commit instead of deadlocking with it.
                cancel = asyncio.create_task(
                    writer.execute(
                        "update scheduled_messages set status = 'cancelled' where id = $1", held
                    )
                )
                await asyncio.sleep(0.2)
            await asyncio.wait_for(cancel, 10)
        assert await _queue(admin_conn) == await _unfinished(admin_conn)
        assert held not in await _queue(admin_conn)
    finally:
        await writer.close()
        await claimer.close()


async def test_the_claim_and_the_record_are_hot_updates(admin_conn: asyncpg.Connection) -> None:
    """Neither update of a sent reminder adds index entries to scheduled_messages (its page has
    room: a fresh table page at the table's fillfactor)."""
    conn = admin_conn
    patient = await factories.create_patient(conn)
    await factories.create_message(conn, patient["id"], scheduled_time=NOW - timedelta(seconds=1))
    hot = "select pg_stat_get_xact_tuples_hot_updated('scheduled_messages'::regclass)"
    updated = "select pg_stat_get_xact_tuples_updated('scheduled_messages'::regclass)"
    async with conn.transaction():
        claims = await claim(conn, now=NOW, limit=1, worker="w", lease_seconds=60)
        outcome = Outcome(
            claims[0].id,
            claims[0].lease_token,
            "sent",
            sent_at=NOW,
            provider_message_id="SM0123",
            channel_used="sms",
        )
        attempt = AttemptRow(claims[0].id, NOW, "sent", "sms", provider_message_id="SM0123")
        assert await record(conn, [outcome], [attempt]) == {claims[0].id}
        assert await conn.fetchval(updated) == 2
        assert await conn.fetchval(hot) == 2


async def test_a_status_callback_finds_its_message_through_the_attempt(
    admin_conn: asyncpg.Connection,
) -> None:
    conn = admin_conn
    patient = await factories.create_patient(conn)
    await factories.create_message(conn, patient["id"], scheduled_time=NOW - timedelta(seconds=1))
    claims = await claim(conn, now=NOW, limit=1, worker="w", lease_seconds=60)
    c = claims[0]
    sent = Outcome(
        c.id, c.lease_token, "sent", sent_at=NOW, provider_message_id="SMab", channel_used="sms"
    )
    attempt = AttemptRow(c.id, NOW, "sent", "sms", provider_message_id="SMab")
    assert await record(conn, [sent], [attempt]) == {c.id}
    await conn.execute(
        "insert into delivery_status_events (provider_message_id, status, channel)"
        " values ('SMab', 'delivered', 'sms')"
    )
    assert await conn.fetchval("select apply_delivery_status_events('SMab')") == 1
    row = await conn.fetchrow(
        "select status, delivered_at from scheduled_messages where id = $1", c.id
    )
    assert row["status"] == "delivered" and row["delivered_at"] is not None


async def _due_messages(conn: asyncpg.Connection, count: int) -> list[Any]:
    """``count`` messages of one patient, due a second before NOW: their ids."""
    patient = await factories.create_patient(conn)
    due = NOW - timedelta(seconds=1)
    return [
        (await factories.create_message(conn, patient["id"], scheduled_time=due))["id"]
        for _ in range(count)
    ]


async def test_a_claim_writes_its_lease_and_a_later_update_in_its_transaction_is_followed(
    admin_conn: asyncpg.Connection,
) -> None:
    """The claim writes its rows' leases into the queue itself and tells the queue's trigger so
    (migration 20260101013200); that holds for its own statement only: a cancel or a re-plan in
    the same transaction, after a claim with rows or with none, is followed."""
    conn = admin_conn
    ids = await _due_messages(conn, 4)
    leased = "select current_setting('medremind.queue_leased', true)"
    async with conn.transaction():
        claims = await claim(conn, now=NOW, limit=2, worker="w", lease_seconds=60)
        assert len(claims) == 2
        queue = await _queue(conn)
        assert queue == await _unfinished(conn)
        assert {k for k, v in queue.items() if v[2] is not None} == {c.id for c in claims}
        assert all(queue[c.id][2] == NOW + timedelta(seconds=60) for c in claims)
        assert await conn.fetchval(leased) in (None, "")
        rest = [i for i in ids if i not in {c.id for c in claims}]
        await conn.execute(
            "update scheduled_messages set status = 'cancelled' where id = $1", rest[0]
        )
        # Nothing due at this instant: a claim of no rows, then a re-plan and a lease by hand.
        assert (
            await claim(conn, now=NOW - timedelta(hours=1), limit=5, worker="w", lease_seconds=60)
            == []
        )
        await conn.execute(
            "update scheduled_messages set scheduled_time = $2 where id = $1",
            rest[1],
            NOW + timedelta(hours=1),
        )
        await conn.execute(
            "update scheduled_messages set status = 'processing', locked_until = $2,"
            " lease_token = gen_random_uuid() where id = $1",
            claims[0].id,
            NOW + timedelta(seconds=5),
        )
        assert await _queue(conn) == await _unfinished(conn)
        assert rest[0] not in await _queue(conn)
    assert await _queue(conn) == await _unfinished(conn)


async def test_the_claims_mark_on_another_writers_statement_skips_nothing_it_must_follow(
    admin_conn: asyncpg.Connection,
) -> None:
    """The mark set by hand before a statement that finishes and re-plans rows: the queue still
    follows every row that is not a claimed 'processing' one."""
    conn = admin_conn
    ids = await _due_messages(conn, 3)
    mark = "select set_config('medremind.queue_leased', 'claim', true)"
    async with conn.transaction():
        await conn.execute(mark)
        await conn.execute(
            "update scheduled_messages set status = case when id = $1 then 'sent' else status end,"
            " scheduled_time = $3 where id = any($2::uuid[])",
            ids[0],
            ids[:2],
            NOW + timedelta(minutes=1),
        )
        assert await _queue(conn) == await _unfinished(conn)
        assert ids[0] not in await _queue(conn)
        assert (await _queue(conn))[ids[1]][1] == NOW + timedelta(minutes=1)


async def test_each_claim_draws_its_own_lease_and_only_its_holder_writes_the_row(
    admin_conn: asyncpg.Connection,
) -> None:
    """The fence: a lease is the pair (row, token). A claim's rows may share its token, but a
    later claim of a row (after the reaper returned it) draws another, and neither an earlier
    claim's token nor another claim's writes the row; the queue's lease is the row's."""
    conn = admin_conn
    await _due_messages(conn, 3)
    first = await claim(conn, now=NOW, limit=2, worker="a", lease_seconds=60)
    second = await claim(conn, now=NOW, limit=2, worker="b", lease_seconds=60)
    assert len(first) == 2 and len(second) == 1
    assert {c.lease_token for c in first}.isdisjoint({c.lease_token for c in second})

    # Nobody writes a row with another claim's token.
    held = first[0]
    stolen = Outcome(held.id, second[0].lease_token, "sent", sent_at=NOW, channel_used="sms")
    assert await record(conn, [stolen], []) == set()

    # The leases end; the reaper returns the rows, and a new claim of the same worker (paused
    # past its lease, say) takes them: new tokens all the same.
    assert await reap_expired_leases(conn, NOW + timedelta(seconds=61)) == 3
    assert await _queue(conn) == await _unfinished(conn)
    again = await claim(
        conn, now=NOW + timedelta(seconds=62), limit=3, worker="a", lease_seconds=60
    )
    assert {c.id for c in again} == {c.id for c in (*first, *second)}
    old_tokens = {c.lease_token for c in (*first, *second)}
    assert old_tokens.isdisjoint({c.lease_token for c in again})
    queue = await _queue(conn)
    assert all(queue[c.id][2] == NOW + timedelta(seconds=122) for c in again)
    assert queue == await _unfinished(conn)

    # The earlier holders' outcomes are refused; the holder's are applied.
    stale = [
        Outcome(c.id, c.lease_token, "sent", sent_at=NOW, channel_used="sms")
        for c in (*first, *second)
    ]
    assert await record(conn, stale, []) == set()
    rows = await conn.fetch("select status, locked_by from scheduled_messages")
    assert {(r["status"], r["locked_by"]) for r in rows} == {("processing", "a")}
    fresh = [Outcome(c.id, c.lease_token, "sent", sent_at=NOW, channel_used="sms") for c in again]
    assert await record(conn, fresh, []) == {c.id for c in again}
    assert await _queue(conn) == {}
