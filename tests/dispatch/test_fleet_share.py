"""A fleet prepares each message of a peak once: every worker reads ahead, renders ahead and
claims ahead only its share (scheduler/fleet_share.py), and any worker still sends any row that
is due, so a worker gone before the peak loses nothing.

Real PostgreSQL, dispatchers as ``medremind worker`` runs them (claims and patient cache on
connections of their own, texts rendered and claimed ahead) with recording senders. Times are
relative to the real clock and quiet hours are off: it runs the same at any hour.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from core.db import Database
from scheduler.claims import Claim
from scheduler.fleet_share import Share
from tests.dispatch.test_claim_ahead import DUE_IN_SECONDS
from tests.dispatch.test_claim_ahead import Worker as ClaimAheadWorker
from tests.dispatch.test_claim_ahead import _peak as claim_ahead_peak
from tests.waiting import eventually

PEAK = 48  # reminders due at one instant: each half more than a batch's worth (the forecast)


class Worker(ClaimAheadWorker):
    """A dispatcher of the fleet (claim-ahead on, texts rendered ahead) and what it sent."""

    @property
    def share(self) -> Share:
        share = self.dispatcher.share
        assert share is not None
        return share

    @property
    def sent(self) -> list[str]:
        return [m.message_id or "" for _, m in self.sender.sends]


async def _peak(conn: asyncpg.Connection, due: datetime) -> list[UUID]:
    """``PEAK`` reminders due at ``due``, a patient each: their ids."""
    return [message["id"] for _, _, message in await claim_ahead_peak(conn, due, PEAK)]


async def _sent_once(conn: asyncpg.Connection, ids: list[UUID]) -> None:
    rows = await conn.fetch(
        "select status, attempts from scheduled_messages where id = any($1)", ids
    )
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 1)] * PEAK


async def _present(conn: asyncpg.Connection, *workers: str) -> None:
    """Workers seen just now, as if running: the first render-ahead pass of each knows its
    share (the planner writes a peak hours ahead, before the window of any pass reaches it)."""
    await conn.executemany(
        "insert into worker_presence (worker) values ($1)", [(w,) for w in workers]
    )


async def test_two_workers_prepare_each_reminder_of_a_peak_once(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """Each renders and claims ahead its own half; together every reminder, each sent once as
    rendered ahead (none rendered twice, none at the instant)."""
    await _present(admin_conn, "fleet-a", "fleet-b")
    due = datetime.now(UTC) + timedelta(seconds=DUE_IN_SECONDS)
    ids = await _peak(admin_conn, due)
    a, b = Worker(db, "fleet-a"), Worker(db, "fleet-b")
    try:
        await eventually(lambda: a.share.workers == b.share.workers == 2, timeout=10)
        assert {a.share.rank, b.share.rank} == {0, 1}
        mine = {w: {i for i in ids if w.share.holds(i)} for w in (a, b)}
        assert mine[a] and mine[b] and not mine[a] & mine[b]
        await eventually(
            lambda: a.dispatcher.claimed_ahead + b.dispatcher.claimed_ahead == PEAK, timeout=10
        )
        assert datetime.now(UTC) < due, "the box was too slow to claim the peak before it"
        for w in (a, b):
            assert w.dispatcher.claimed_ahead == len(mine[w])
        await eventually(lambda: len(a.sent) + len(b.sent) == PEAK, timeout=20)
        for w in (a, b):
            assert sorted(w.sent) == sorted(str(i) for i in mine[w])
            held = w.dispatcher.rendered_ahead
            assert held is not None
            # Its share only, each text rendered once and sent as rendered.
            assert (held.rendered, held.taken, held.stale) == (len(mine[w]), len(mine[w]), 0)
    finally:
        await asyncio.gather(a.stop(), b.stop())
    await _sent_once(admin_conn, ids)


async def test_a_worker_that_stops_leaves_its_share_to_the_others(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """Stopped cleanly before the peak, a worker says so: the other prepares the whole peak
    (looking at its window again) and sends it all."""
    await _present(admin_conn, "fleet-a", "fleet-b")
    due = datetime.now(UTC) + timedelta(seconds=DUE_IN_SECONDS + 4)
    ids = await _peak(admin_conn, due)
    a, b = Worker(db, "fleet-a"), Worker(db, "fleet-b")
    try:
        await eventually(lambda: a.share.workers == b.share.workers == 2, timeout=10)
        await b.stop()
        await eventually(lambda: a.share.workers == 1, timeout=5)
        await eventually(lambda: a.dispatcher.claimed_ahead == PEAK, timeout=15)
        assert datetime.now(UTC) < due, "the box was too slow to claim the peak before it"
        await eventually(lambda: len(a.sent) == PEAK, timeout=20)
    finally:
        await a.stop()
    assert b.sent == []
    held = a.dispatcher.rendered_ahead
    assert held is not None
    assert held.taken == PEAK  # its own share first, the other's once it was told
    await _sent_once(admin_conn, ids)


async def test_the_share_of_a_worker_gone_before_the_peak_is_sent_at_its_time(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """A worker seen a moment ago (and gone without a word: killed) still counts, so its share
    is prepared by nobody: at the instant the live worker claims those rows as due, renders
    them then and sends them with its own. Nothing is lost, nothing goes twice."""
    await _present(admin_conn, "fleet-ghost")
    due = datetime.now(UTC) + timedelta(seconds=DUE_IN_SECONDS)
    ids = await _peak(admin_conn, due)
    a = Worker(db, "fleet-a")
    claims_before_due = 0
    claim = a.dispatcher._claims.claim

    async def counted(**kwargs: Any) -> list[Claim]:
        nonlocal claims_before_due
        claims_before_due += datetime.now(UTC) < due
        return await claim(**kwargs)

    a.dispatcher._claims.claim = counted  # type: ignore[method-assign]  # counts, passes on
    try:
        await eventually(lambda: a.share.workers == 2, timeout=10)
        mine = {i for i in ids if a.share.holds(i)}
        assert 0 < len(mine) < PEAK
        await eventually(lambda: a.dispatcher.claimed_ahead == len(mine), timeout=10)
        assert datetime.now(UTC) < due, "the box was too slow to claim the peak before it"
        await eventually(lambda: len(a.sent) == PEAK, timeout=20)
        held = a.dispatcher.rendered_ahead
        assert held is not None
        assert held.taken == len(mine)  # the ghost's share was rendered at the instant
        # Its own share claimed ahead, the worker did not ask again and again for the ghost's
        # rows due within its window (every 20 ms: ~480 claims in the 10 s before the peak).
        assert claims_before_due < 200, claims_before_due
    finally:
        await a.stop()
    rows = await admin_conn.fetch("select sent_at from scheduled_messages where id = any($1)", ids)
    assert all(r["sent_at"] >= due for r in rows), "sent before its time"
    await _sent_once(admin_conn, ids)
