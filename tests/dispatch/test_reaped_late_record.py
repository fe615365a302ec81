"""A send recorded late, after the reaper returned its row, counts while nobody took the row since.

After a database outage longer than the lease's margin, a worker's buffered "sent" outcomes came
back after a reaper had returned those rows to pending: the record was refused as a lost lease and
the rows were sent again. The reaper now keeps the row's lease token; the record takes a sent
outcome for a pending row whose token still matches, and the worker's lease keeper takes such a
row back (scheduler/lease_keeper.py). A new claim draws a new token, and any other change of the
row clears it (migration 20260101017700), so neither a row claimed again nor one edited since is
marked sent by the late record.

The statements themselves, on real PostgreSQL, at fixed times:
tests/dispatch/test_lease_renewal.py runs the keeper in real worker processes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg

from scheduler.claims import Claim, Outcome, claim, record
from scheduler.lease_keeper import LeaseKeeper
from scheduler.reaper import reap_expired_leases
from tests import factories
from tests.dispatch.test_message_queue import NOW, _due_messages, _queue, _unfinished

LEASE = 60
LATER = NOW + timedelta(seconds=LEASE + 1)  # every lease of a claim at NOW has ended


def _sent(c: Claim) -> Outcome:
    return Outcome(c.id, c.lease_token, "sent", sent_at=NOW, channel_used="sms")


async def _row(conn: asyncpg.Connection, message_id: UUID) -> Any:
    return await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)


async def _claim_reaped(conn: asyncpg.Connection, count: int) -> list[Claim]:
    """``count`` rows claimed at NOW by worker "a", then returned by the reaper."""
    await _due_messages(conn, count)
    claims = await claim(conn, now=NOW, limit=count, worker="a", lease_seconds=LEASE)
    assert len(claims) == count
    assert await reap_expired_leases(conn, LATER) == count
    return sorted(claims, key=lambda c: c.id)


async def test_a_late_sent_record_counts_for_a_reaped_row_nobody_took(
    admin_conn: asyncpg.Connection,
) -> None:
    conn = admin_conn
    (late,) = await _claim_reaped(conn, 1)
    row = await _row(conn, late.id)
    assert (row["status"], row["locked_until"], row["lease_token"]) == (
        "pending",
        None,
        late.lease_token,
    )
    # The lost lease spent no attempt; it is counted apart (scheduler/reaper.py).
    assert (row["attempts"], row["leases_lost"]) == (0, 1)
    assert await record(conn, [_sent(late)], []) == {late.id}
    row = await _row(conn, late.id)
    assert (row["status"], row["lease_token"], row["last_error"]) == ("sent", None, None)
    assert await _queue(conn) == {}  # a sent row leaves the queue
    # Nothing is due any more: no claim sends it again.
    assert await claim(conn, now=LATER, limit=5, worker="b", lease_seconds=LEASE) == []


async def test_a_late_record_is_refused_once_the_row_is_claimed_edited_or_cancelled(
    admin_conn: asyncpg.Connection,
) -> None:
    conn = admin_conn
    edited, cancelled, claimed_again = await _claim_reaped(conn, 3)
    # A clinic's edit of the text: the row goes as edited, not marked sent by the old send.
    await conn.execute(
        "update scheduled_messages set message_content = 'Changed' where id = $1", edited.id
    )
    assert (await _row(conn, edited.id))["lease_token"] is None
    await conn.execute(
        "update scheduled_messages set status = 'cancelled', last_error = 'by the clinic'"
        " where id = $1",
        cancelled.id,
    )
    again = await claim(conn, now=LATER, limit=5, worker="b", lease_seconds=LEASE)
    assert {c.id for c in again} == {edited.id, claimed_again.id}
    old_tokens = {edited.lease_token, claimed_again.lease_token}
    assert {c.lease_token for c in again}.isdisjoint(old_tokens)

    late = [_sent(c) for c in (edited, cancelled, claimed_again)]
    assert await record(conn, late, []) == set()
    statuses = dict(await conn.fetch("select id, status from scheduled_messages"))
    assert statuses == {
        edited.id: "processing",
        cancelled.id: "cancelled",
        claimed_again.id: "processing",
    }
    assert await record(conn, [_sent(c) for c in again], []) == {c.id for c in again}


async def test_only_a_send_is_taken_late_and_not_once_the_row_gave_up(
    admin_conn: asyncpg.Connection,
) -> None:
    conn = admin_conn
    failed, last = await _claim_reaped(conn, 2)
    # A late failure or retry of a reaped row is not taken: the row is retried as reaped.
    retry = Outcome(failed.id, failed.lease_token, "failed", last_error="provider said no")
    assert await record(conn, [retry], []) == set()
    assert (await _row(conn, failed.id))["status"] == "pending"
    await conn.execute(
        "update scheduled_messages set status = 'cancelled' where id = $1", failed.id
    )
    # A row on its last attempt goes back too: a lost lease gives its attempt back
    # (scheduler/reaper.py). Only its third lost lease (MIN_LEASES_LOST, more than its
    # max_attempts) fails it and drops its token: a late send is then not recorded.
    await conn.execute("update scheduled_messages set max_attempts = 1 where id = $1", last.id)
    row = await _row(conn, last.id)
    assert (row["status"], row["attempts"], row["leases_lost"]) == ("pending", 0, 1)
    at = LATER
    for lost in (2, 3):
        (redo,) = await claim(conn, now=at, limit=5, worker="a", lease_seconds=LEASE)
        at += timedelta(seconds=LEASE + 1)
        assert await reap_expired_leases(conn, at) == 1
        row = await _row(conn, last.id)
        assert row["leases_lost"] == lost and row["attempts"] == 0
    assert (row["status"], row["lease_token"]) == ("failed", None)
    assert row["last_error"] == (
        "lease expired 3 times (worker stopped mid-send); given up: every worker that held it"
        " stopped"
    )
    assert await record(conn, [_sent(redo)], []) == set()


async def test_the_keeper_renews_leases_that_end_soon_and_takes_back_reaped_rows(
    admin_conn: asyncpg.Connection,
) -> None:
    conn = admin_conn
    reaped, edited = await _claim_reaped(conn, 2)
    await conn.execute(
        "update scheduled_messages set scheduled_time = scheduled_time + interval '1 hour'"
        " where id = $1",
        edited.id,
    )
    # Two more, claimed at LATER ahead of the reaped row (a higher priority).
    patient = await factories.create_patient(conn)
    for _ in range(2):
        await factories.create_message(
            conn, patient["id"], scheduled_time=NOW - timedelta(seconds=1), priority=0
        )
    fresh = await claim(conn, now=LATER, limit=2, worker="a", lease_seconds=LEASE)
    assert reaped.id not in {c.id for c in fresh} and len(fresh) == 2
    held = [(c.id, c.lease_token) for c in (reaped, edited, *fresh)]
    clock = [LATER]
    keeper = LeaseKeeper(conn, lambda: clock[0], LEASE, lambda: held, worker="a")

    # A third of a lease after the claim: the fresh leases have two thirds left, not renewed;
    # the reaped row is taken back, the edited one (its token cleared) is not.
    clock[0] = LATER + timedelta(seconds=LEASE / 3 - 1)
    assert await keeper.renew_once()
    assert keeper.renewed == 1
    row = await _row(conn, reaped.id)
    assert (row["status"], row["locked_by"], row["lease_token"]) == (
        "processing",
        "a",
        reaped.lease_token,
    )
    assert row["locked_until"] == clock[0] + timedelta(seconds=LEASE)
    # Its lease was not lost after all: the reaper's accounting is undone (its claim's attempt
    # counts again, the loss does not; migration 20260101018010).
    assert (row["attempts"], row["leases_lost"]) == (1, 0)
    assert (await _row(conn, edited.id))["status"] == "pending"
    assert await _queue(conn) == await _unfinished(conn)

    # Later, with less than two thirds of their lease left: renewed, in the queue too.
    clock[0] = LATER + timedelta(seconds=LEASE / 3 + 1)
    assert await keeper.renew_once()
    assert keeper.renewed == 3
    queue = await _queue(conn)
    assert all(queue[c.id][2] == clock[0] + timedelta(seconds=LEASE) for c in fresh)
    assert queue == await _unfinished(conn)
    # The reaper leaves renewed leases alone; the record of each holds.
    assert await reap_expired_leases(conn, LATER + timedelta(seconds=LEASE + 1)) == 0
    done = await record(conn, [_sent(c) for c in (reaped, *fresh)], [])
    assert done == {reaped.id, *(c.id for c in fresh)}
