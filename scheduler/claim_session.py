"""Where the dispatcher's claim runs: planned once, committed without waiting for the disk.

The claim joins ten tables. The worker's pooled connections plan every statement with its
values (``core.db.CUSTOM_PLANS``, for the record's sake), and planning the claim took ~1.8 ms of
Postgres CPU, eight times its execution: at a steady 1,000/s (a claim per wake-up or two) most
of a core, and the pickup latency of issue 20 grew with it. Its plan does not depend on the
values (a priority-ordered index scan, then key lookups, whatever the batch), so it is planned
once per connection (``plan_cache_mode = force_generic_plan``).

Nor does a claim wait for its commit to reach the disk (``synchronous_commit = off``; ~6 ms of
the pickup latency on a shared disk): a claim lost to a database crash leaves its rows pending,
to be claimed again, as the reaper does for a worker lost after a send (delivery is at least
once). Other workers see the claim at once, and the record's durable commit flushes every claim
before it.

With ``connect`` (``medremind worker``: ``Database.connect``) the claims run on a connection of
their own with those settings for its session, one statement each, as LISTEN has its own; it is
opened again after any failure. Its patients come from the worker's cache
(:class:`scheduler.claim_cache.ClaimCache`, listening on a connection of its own, started with the
first claim; the patients of messages due within a minute are read into it ahead,
scheduler.claim_prefetch), and those it lacks are read in one more statement per batch. Without
``connect`` (a dispatcher built on a pool alone), each claim runs in a transaction of a pooled
connection that sets them locally, two more round trips, and reads its patients afresh in it:
no cache.

With ``connections`` above one, as many claims may run at once, each on a connection of its own
(the dispatcher keeps two in flight in a burst, scheduler.dispatcher): they skip each other's
locked rows, and each waits for its own barrier.

A claim whose patients cannot be read after it committed (the connection failed in between)
raises, and its rows come back when their lease expires, as when a claim's answer is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from scheduler.claim_cache import MAX_PATIENTS, ClaimCache
from scheduler.claim_prefetch import Prefetch
from scheduler.claims import Claim, assemble, claim_rows
from scheduler.fleet_share import WHOLE, FleetShare, Share

_SESSION = "set plan_cache_mode = force_generic_plan; set synchronous_commit = off"
_TRANSACTION = (
    "begin; set local plan_cache_mode = force_generic_plan; set local synchronous_commit = off"
)
_CLOSE_SECONDS = 2.0
# The patient cache keeps at least this many (a worker told to read nothing ahead still caches
# the patients of its claims).
MIN_CACHED_PATIENTS = 10_000
# Errors on which a connection of our own is dropped (asyncpg's, the network's, a timeout).
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    TimeoutError,
)


class ClaimSession:
    """``await session.claim(now=..., limit=..., worker=..., lease_seconds=...)``; see above."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
        *,
        cache_size: int = MAX_PATIENTS,
        connections: int = 1,
    ) -> None:
        """``cache_size``: patients the cache keeps (at least :data:`MIN_CACHED_PATIENTS`);
        ``connections``: claims that may run at once (each on its own connection)."""
        self.pool = pool
        self._connect = connect
        # One claim at a time on each connection: a claim takes a free slot, then its connection.
        self._conns: list[asyncpg.Connection | None] = [None] * max(1, connections)
        self._slots: asyncio.Queue[int] = asyncio.Queue()
        for slot in range(len(self._conns)):
            self._slots.put_nowait(slot)
        self._cache_size = max(MIN_CACHED_PATIENTS, cache_size)
        self.cache = ClaimCache(connect, max_entries=self._cache_size)
        self._listening: asyncio.Task[None] | None = None
        self._prefetch: Prefetch | None = None
        # The worker's share of the fleet (scheduler.fleet_share): the patients read ahead are
        # those of its messages. Set by the dispatcher before the first claim; None: all.
        self.share: FleetShare | None = None
        self._prefetching: asyncio.Task[None] | None = None

    def listen(self) -> None:
        """Start the cache's LISTEN connection (with ``connect`` only); idempotent. The first
        claim starts it; until it is up, claims read their patients afresh."""
        if self._connect is not None and self._listening is None:
            self._listening = asyncio.create_task(self.cache.run(), name="claim-cache")
            self._prefetch = Prefetch(self.pool, self.cache, share=self.share)
            self._prefetching = asyncio.create_task(self._prefetch.run(), name="claim-prefetch")

    async def claim(
        self,
        *,
        now: datetime,
        limit: int,
        worker: str,
        lease_seconds: float,
        share: Share = WHOLE,
    ) -> list[Claim]:
        """Claim up to ``limit`` due rows (:func:`scheduler.claims.claim`), of ``share`` only
        (a claim ahead of a peak: :mod:`scheduler.fleet_share`)."""
        slot = await self._slots.get()
        try:
            if self._connect is None:
                return await self._in_transaction(now, limit, worker, lease_seconds, share)
            self.listen()
            conn = await self._connection(slot)
            try:
                barrier = self.cache.token()
                rows = await claim_rows(
                    conn,
                    now=now,
                    limit=limit,
                    worker=worker,
                    lease_seconds=lease_seconds,
                    barrier=barrier,
                    share=share,
                )
                return await assemble(conn, rows, self.cache, barrier)
            except BaseException:
                # A statement that failed may leave the connection half-open: a new one next.
                self._conns[slot] = None
                conn.terminate()
                raise
        finally:
            self._slots.put_nowait(slot)

    @property
    def connection(self) -> asyncpg.Connection | None:
        """The first claim connection, if open (benchmarks read its backend)."""
        return self._conns[0]

    async def _connection(self, slot: int) -> asyncpg.Connection:
        conn = self._conns[slot]
        if conn is not None and not conn.is_closed():
            return conn
        assert self._connect is not None
        conn = await self._connect()
        try:
            await conn.execute(_SESSION)
        except BaseException:
            conn.terminate()
            raise
        self._conns[slot] = conn
        return conn

    async def _in_transaction(
        self, now: datetime, limit: int, worker: str, lease_seconds: float, share: Share
    ) -> list[Claim]:
        async with self.pool.acquire() as conn:
            await conn.execute(_TRANSACTION)  # one round trip (simple protocol)
            try:
                rows = await claim_rows(
                    conn,
                    now=now,
                    limit=limit,
                    worker=worker,
                    lease_seconds=lease_seconds,
                    share=share,
                )
                claims = await assemble(conn, rows)
                await conn.execute("commit")
            except BaseException:
                # Nothing was claimed (or the commit's answer was lost: the leases then expire
                # and the reaper returns the rows). The pool rolls back a connection it gets
                # back in a transaction; this returns it clean without waiting for that.
                if not conn.is_closed() and conn.is_in_transaction():
                    with contextlib.suppress(*_CONNECTION_ERRORS):
                        await conn.execute("rollback")
                raise
        return claims

    async def aclose(self) -> None:
        """Close the connection of our own and the cache's, if any; idempotent."""
        listening, self._listening = self._listening, None
        prefetching, self._prefetching = self._prefetching, None
        if self._prefetch is not None:
            self._prefetch.stop()
        if listening is not None:
            self.cache.stop()
            await asyncio.gather(listening, *filter(None, [prefetching]), return_exceptions=True)
            # A later claim starts afresh.
            self.cache = ClaimCache(self._connect, max_entries=self._cache_size)
        conns, self._conns = self._conns, [None] * len(self._conns)
        for conn in conns:
            if conn is None or conn.is_closed():
                continue
            try:
                await asyncio.wait_for(conn.close(), timeout=_CLOSE_SECONDS)
            except _CONNECTION_ERRORS:
                conn.terminate()
