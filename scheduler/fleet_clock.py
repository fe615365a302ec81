"""The worker's clock: the database's, read through this host's monotonic clock.

Every worker of a fleet writes leases (``locked_until = now + lease``), reaps them
(``locked_until < now``) and decides what is due in the clock it is given. In each host's own
wall clock, a worker on a host whose clock ran two minutes ahead (a VM resumed without NTP, a
drifting container host) reaped the leases of live workers mid-send, and their messages went
twice (tests/dispatch/test_fleet_clock_skew.py); it also sent reminders two minutes early. The
web process already leases its replies in the database's clock (``clock_timestamp()``).

So the fleet shares one clock, the database server's: :meth:`FleetClock.sync` reads
``clock_timestamp()`` and the host's monotonic clock around it, and :meth:`FleetClock.now` is
that reading moved on by the monotonic clock since (which no wall-clock step moves). The worker
syncs at start and with each heartbeat. Until its first sync (the database not reachable yet)
it reads the host's wall clock, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from scheduler.dispatch_config import utc_now

logger = logging.getLogger(__name__)

# A reading whose round trip took longer than this is not trusted over the one before it (it
# could be this far off): a stalled connection or a busy server at 08:00.
MAX_ROUND_TRIP_SECONDS = 0.5
# How far this host's wall clock may stray from the database's before an operator is told
# (the deliverer keeps 5 s of a lease spare; NTP keeps hosts within milliseconds).
WARN_OFFSET_SECONDS = 1.0


class FleetClock:
    """``now()``: the database's time, as of the last :meth:`sync`, moved on monotonically."""

    def __init__(
        self,
        *,
        wall: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._at: datetime | None = None  # the database's time at ...
        self._mono = 0.0  # ... this reading of the monotonic clock
        self.offset_seconds: float | None = None  # the database's time minus this host's

    def now(self) -> datetime:
        """The fleet's time now (aware UTC); the host's wall clock before the first sync."""
        if self._at is None:
            return self._wall()
        return self._at + timedelta(seconds=self._monotonic() - self._mono)

    async def sync(self, conn: asyncpg.Connection | asyncpg.Pool) -> None:
        """Read the database's clock. A reading with a slower round trip than
        :data:`MAX_ROUND_TRIP_SECONDS` replaces an earlier one only when it is the first."""
        before = self._monotonic()
        db_now: datetime = await conn.fetchval("select clock_timestamp()")
        after = self._monotonic()
        round_trip = after - before
        if round_trip > MAX_ROUND_TRIP_SECONDS and self._at is not None:
            return
        self._at, self._mono = db_now, (before + after) / 2
        offset = (db_now - self._wall()).total_seconds() + round_trip / 2
        if abs(offset) > WARN_OFFSET_SECONDS and (
            self.offset_seconds is None or abs(offset - self.offset_seconds) > WARN_OFFSET_SECONDS
        ):
            logger.warning(
                "this host's clock differs from the database's; the worker keeps the database's",
                extra={"offset_seconds": round(offset, 3)},
            )
        self.offset_seconds = offset
