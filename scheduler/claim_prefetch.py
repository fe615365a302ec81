"""Read the patients of messages due soon into the worker's claim cache, before they are due.

A cold cache makes every claim of a burst read its patients (a second statement per batch, on the
claims' own connection, between the claim and the sends). The planner writes reminders hours
ahead, so the worker knows at 07:59 whose messages fall due at 08:00: once a second this reads
the patients of pending messages due within :data:`HORIZON_SECONDS` that are not cached
(``dispatch.sql: prefetch_patients``; each row looked at once, the window sliding on), in
batches, on a pooled connection. What it reads is a fill like any other
(:meth:`scheduler.claim_cache.ClaimCache.begin_fill`): an edit before the claim drops it again,
and the claim's barrier still decides what it may trust. It reads only while the cache listens,
and at most half the cache per pass, so that it never evicts what it just read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import asyncpg

from core.sql import query
from scheduler.claim_cache import ClaimCache
from scheduler.claims import STATEMENT_TIMEOUT_SECONDS, read_patients

logger = logging.getLogger(__name__)

HORIZON_SECONDS = 60.0
INTERVAL_SECONDS = 1.0
_BATCH = 500  # patients per read (a claim's batch is 100)
_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


class Prefetch:
    """``await Prefetch(pool, cache).run()`` until :meth:`stop`; see the module docstring."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        cache: ClaimCache,
        *,
        horizon: float = HORIZON_SECONDS,
        interval: float = INTERVAL_SECONDS,
    ) -> None:
        self.pool = pool
        self.cache = cache
        self.horizon = horizon
        self.interval = interval
        self.read = 0  # patients read ahead (for tests and benchmarks)
        self._upper: datetime | None = None
        self._drops = cache.drops
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Make :meth:`run` return; idempotent."""
        self._stop.set()

    async def run(self) -> None:
        """A pass now and every ``interval``; a failed pass is logged and retried."""
        while not self._stop.is_set():
            try:
                await self.once()
            except _ERRORS as exc:
                logger.warning("could not read patients ahead", extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    async def once(self) -> int:
        """One pass: read the uncached patients of what falls due in the window; how many."""
        if not self.cache.live or self.cache.drops != self._drops:
            # Whatever was read ahead went with the cache: look at the whole window again.
            self._upper = None
            self._drops = self.cache.drops
            if not self.cache.live:
                return 0
        room = max(0, self.cache.max_entries // 2)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                query("dispatch", "prefetch_patients"),
                self._upper,
                self.horizon,
                room,
                timeout=STATEMENT_TIMEOUT_SECONDS,
            )
            self._upper = row["upper"]
            wanted = [p for p in row["patients"] if p not in self.cache]
            for start in range(0, len(wanted), _BATCH):
                fill = self.cache.begin_fill()
                try:
                    read = await read_patients(conn, wanted[start : start + _BATCH])
                except BaseException:
                    self.cache.end_fill(fill, ())
                    raise
                self.cache.end_fill(fill, ((p, d, d.organization_id) for p, d in read.items()))
                self.read += len(read)
        return len(wanted)
