"""The lease reaper: rows whose worker died or stalled mid-send go back to ``pending``.

A returned row may have been sent already (the worker died after the send, before recording it):
that is the bounded duplicate of at-least-once delivery. It may as well never have been sent (the
worker died before the send began): nothing in the database tells the two apart. So a lost lease
spends no attempt (a reminder on its last try that a killed worker held still goes); lost leases
are counted apart (``leases_lost``), and a row fails only after :data:`MIN_LEASES_LOST` of them,
or its ``max_attempts`` if more: a message whose send stops every worker that tries it does not
loop forever (``core/sql/reaper.sql``, migration 20260101018000).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from core.sql import query
from scheduler import metrics
from scheduler.dispatcher import DB_ERRORS
from scheduler.fleet_limits import prune_ledger
from scheduler.lease_keeper import RETRY_SECONDS

logger = logging.getLogger(__name__)

_LEDGER_IDLE = timedelta(minutes=10)
_HOLD_CHANGES_KEPT = timedelta(hours=1)
# Lost leases a row survives at least (its max_attempts if more): a worker killed by a deploy or
# a crash while it held the row, twice, still leaves the row a claim; a third hints at a message
# whose send stops the worker, and each one costs a worker and a lease's wait.
MIN_LEASES_LOST = 3
_LEASE_MARGIN_MAX_SECONDS = 5.0  # as scheduler/delivery.py's: min(5, lease / 10)


async def reap_expired_leases(conn: asyncpg.Connection | asyncpg.Pool, now: datetime) -> int:
    """Return rows with ``locked_until < now`` to pending, their attempt given back (failed when
    they lost their lease too often: see the module); how many.

    ``now`` is the time leases must have ended by: the worker's job (:class:`ReapJob`) passes
    one well before the fleet's now, so that live workers' keepers get to renew first."""
    rows = await conn.fetch(query("reaper", "reap"), now, MIN_LEASES_LOST)
    if rows:
        metrics.REAPED.inc(len(rows))
        logger.warning("returned expired leases", extra={"count": len(rows)})
        given_up = sum(1 for r in rows if r["status"] == "failed")
        if given_up:
            logger.error("failed messages whose every worker stopped", extra={"count": given_up})
    return len(rows)


class ReapJob:
    """The worker's reap job (every ``interval`` seconds), which spares leases a live worker's
    lease keeper has not yet had the database to renew.

    A lease keeper renews every third of a lease, and after a failure retries every quarter
    second (``scheduler/lease_keeper.py``): a lease runs out only if its worker stopped, or if the
    database was away from that worker. In the second case the keeper renews (or takes back) the
    lease within a quarter second of the database's return; a reaper that ran first returned a
    live worker's sent rows to pending, a listening worker claimed them at once and they went
    twice. So a pass reaps only:

    * leases that expired more than ``expired_for`` ago (an interval, plus ``chance`` and a
      slack): an outage short enough to fall between two passes of this job (under an interval
      and the slack) ended at least ``chance`` before any lease that ran out in it is reaped;
    * when its previous pass reached the database, started about an interval ago (not delayed
      by a hung statement or a stalled process) and ended at least ``chance`` ago: a longer
      outage fails a pass (or holds it up), and the keepers then get at least the next interval
      after the pass that finds the database back. The first pass of a process only looks.

    ``chance`` is what a keeper needs once the database is back: its retry and the lease's
    margin. A worker killed mid-send gets its rows back ``expired_for`` (and at most an interval)
    later than a lease after its last renewal. Times to reap by are the fleet's (``clock``); the
    job's own timing is ``monotonic``'s (injected in tests).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Callable[[], datetime],
        lease_seconds: float,
        interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.monotonic = monotonic
        self.interval = interval
        margin = min(_LEASE_MARGIN_MAX_SECONDS, lease_seconds / 10)  # scheduler/delivery.py's
        self.chance = RETRY_SECONDS + margin
        self.slack = RETRY_SECONDS + margin  # how late a pass may start on a loaded machine
        self.expired_for = interval + self.slack + self.chance
        self._last_start: float | None = None
        self._reached: float | None = None  # when the last pass ended, None if it failed

    def may_reap(self, started: float) -> bool:
        """Whether a pass that started at ``started`` (monotonic) reaps; see the class."""
        if self._last_start is None or self._reached is None:
            return False
        on_time = started - self._last_start <= self.interval + self.slack
        return on_time and started - self._reached >= self.chance

    async def run_once(self) -> int | None:
        """One pass: how many leases it returned, None if it only looked or failed (logged)."""
        started = self.monotonic()
        reap = self.may_reap(started)
        self._last_start = started
        reaped = None
        try:
            if reap:
                before = self.clock() - timedelta(seconds=self.expired_for)
                reaped = await reap_expired_leases(self.pool, before)
            # Recipients' rate keys idle for a while: their next slot is long past. Also what
            # tells the next pass that the database answered when this one only looked.
            await prune_ledger(self.pool, self.clock() - _LEDGER_IDLE)
            # What changed since claims made ahead (migration 20260101019310): a claim held
            # ahead lives seconds, its lease minutes.
            await self.pool.execute(
                query("dispatch", "prune_hold_changes"), self.clock() - _HOLD_CHANGES_KEPT
            )
        except DB_ERRORS as exc:
            self._reached = None
            logger.warning("reaper failed", extra={"error": type(exc).__name__})
            return None
        self._reached = self.monotonic()
        if not reap:
            logger.info("reaper waits a pass for the lease keepers")
        return reaped
