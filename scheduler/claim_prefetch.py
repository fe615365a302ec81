"""Read the patients of messages due soon into the worker's claim cache, before they are due.

A cold cache makes every claim of a burst read its patients (a second statement per batch, on the
claims' own connection, between the claim and the sends). The planner writes reminders hours
ahead, so the worker knows at 07:59 whose messages fall due at 08:00: once a second this reads
the patients of pending messages due within :data:`HORIZON_SECONDS` that are not cached
(``dispatch.sql: prefetch_patients``; each row looked at once, the window sliding on), in
batches, on a pooled connection. A window with more patients than a pass may read is paged on,
in patient order, in the passes that follow: 100,000 reminders at 08:00 share one due time (one
pass read the first 25,000 and the window slid past the rest, whose claims then read them).
What it reads is a fill like any other (:meth:`scheduler.claim_cache.ClaimCache.begin_fill`): an
edit before the claim drops it again, and the claim's barrier still decides what it may trust.
It reads only while the cache listens, and at most half the cache per pass, so that it never
evicts what it just read. In a fleet it reads the patients of the worker's share of the messages
(:mod:`scheduler.fleet_share`), the share it renders and claims ahead.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.claim_cache import ClaimCache
from scheduler.claims import STATEMENT_TIMEOUT_SECONDS, read_into_cache
from scheduler.fleet_share import WHOLE, FleetShare
from scheduler.periodic import Periodic

logger = logging.getLogger(__name__)

HORIZON_SECONDS = 60.0
INTERVAL_SECONDS = 1.0
_BATCH = 500  # patients per read (a claim's batch is 100)


class Prefetch(Periodic):
    """``await Prefetch(pool, cache).run()`` until :meth:`stop`; see the module docstring."""

    failure = "could not read patients ahead"

    def __init__(
        self,
        pool: asyncpg.Pool,
        cache: ClaimCache,
        *,
        horizon: float = HORIZON_SECONDS,
        interval: float = INTERVAL_SECONDS,
        share: FleetShare | None = None,
    ) -> None:
        super().__init__(interval, logger)
        self.pool = pool
        self.cache = cache
        self.horizon = horizon
        # The worker's share of the fleet (its render-ahead pass keeps it current): the patients
        # of its messages only. None: of every message.
        self.share = share
        self._share = WHOLE  # the share the windows read so far were read for
        self.read = 0  # patients read ahead (for tests and benchmarks)
        self._upper: datetime | None = None  # where the windows read so far end
        # The window being paged through: its end, and the last patient read from it.
        self._window: datetime | None = None
        self._after: UUID | None = None
        self._drops = cache.drops

    async def once(self) -> int:
        """One pass: read the uncached patients of what falls due in the window; how many."""
        if not self.cache.live or self.cache.drops != self._drops:
            # Whatever was read ahead went with the cache: look at the whole window again.
            self._upper = self._window = self._after = None
            self._drops = self.cache.drops
            if not self.cache.live:
                return 0
        share = self.share.current if self.share is not None else WHOLE
        if share != self._share:  # a worker came or went: the whole window again
            self._upper = self._window = self._after = None
            self._share = share
        room = max(0, self.cache.max_entries // 2)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                query("dispatch", "prefetch_patients"),
                self._upper,
                self._window,
                self.horizon,
                room,
                self._after,
                *share.params,
                timeout=STATEMENT_TIMEOUT_SECONDS,
            )
            patients = row["patients"]
            if room and len(patients) >= room:  # more in this window: the next pass pages on
                self._window, self._after = row["upper"], patients[-1]
            else:
                self._upper, self._window, self._after = row["upper"], None, None
            wanted = [p for p in patients if p not in self.cache]
            for start in range(0, len(wanted), _BATCH):
                read = await read_into_cache(conn, self.cache, wanted[start : start + _BATCH])
                self.read += len(read)
        return len(wanted)
