"""Renew the leases of the rows a worker holds, so that a slow record does not lose them.

A claim leases its rows for ``lease_seconds``; a send must start early enough to end inside the
lease, less a margin (``min(5, lease / 10)``). What it leaves for the record is that margin: a
send that ended near the lease's end waited for its flush, and a flush that failed once or twice
waits for its retry (up to 5 s, ``dispatcher._DB_RETRY_MAX_SECONDS``). A record later than the
lease let the reaper of any worker return a row already sent to ``pending``, and it was sent again
while nothing had crashed.

So while a worker lives it renews the leases of the rows it is sending or has sent and not yet
recorded: every third of the lease, one statement (``dispatch.sql: renew``) moves the end of
every such lease that would end within two thirds of a lease to a whole lease from now, guarded
by the lease token and ``processing``, the record's own guard: a row another worker took is not
touched. A row the reaper returned to pending while this worker could not reach the database,
that nobody claimed or changed since (it keeps its lease token until then, migration
20260101017700), is taken back: it was sent, or is being sent, and must not go again; the
reaper's accounting of that lease (its attempt given back, counted as lost) is undone then
(migration 20260101018010).

A renewal that fails (the database away) is tried again within a quarter second; the first that
succeeds after a failure tells the dispatcher (``on_back``), whose flusher then records at once
instead of finishing its backoff.

A send starts at the latest a send timeout (a third of the lease at most) and the margin before
its lease ends, so a tick comes while it is in flight, or after, with at least the margin to spare.

A worker that stops (killed, stalled, its event loop stuck) renews nothing, and the reaper returns
its rows a lease later as before. Rows claimed and not sent yet, or put back unsent, are not
renewed: should their lease run out, another worker sends them, once; a worker whose records
fail for a long time keeps only what it sent from the fleet, which must not go again.

Times are the fleet's (``scheduler/fleet_clock.py``: the database's), as the claim's and the
reaper's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.sql import query

logger = logging.getLogger(__name__)

# After a failed renewal the next is tried this soon: the first back after an outage should come
# before any reaper's (every half lease, at most 30 s) and any claim (their backoff reaches 5 s).
RETRY_SECONDS = 0.25
_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    TimeoutError,
)


class LeaseKeeper:
    """``await keeper.run()`` until cancelled: renews the leases ``held()`` names; see above.

    ``held`` returns the (message id, lease token) of every row being sent or sent and not yet
    recorded; ``worker`` is ``locked_by`` of a row taken back; ``clock`` the fleet's time;
    ``on_back`` is called after the first renewal that succeeds after a failure (the database
    answers again).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Callable[[], datetime],
        lease_seconds: float,
        held: Callable[[], Iterable[tuple[UUID, UUID]]],
        on_back: Callable[[], None] | None = None,
        *,
        worker: str,
    ) -> None:
        self.pool = pool
        self.worker = worker
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.held = held
        self.on_back = on_back
        self.period = lease_seconds / 3
        self.renewed = 0  # leases renewed (for tests and logs)
        self._failing = False

    async def run(self) -> None:
        """Renew every third of a lease (a quarter second after a failure) until cancelled."""
        while True:
            ok = await self.renew_once()
            await asyncio.sleep(self.period if ok else min(RETRY_SECONDS, self.period))

    async def renew_once(self) -> bool:
        """One renewal of the held leases that end soon; False if the database failed it."""
        rows = list(self.held())
        if not rows:
            self._failing = False  # nothing waits for the database's return
            return True
        now = self.clock()
        try:
            async with asyncio.timeout(max(1.0, self.period)):
                renewed = await self.pool.fetchval(
                    query("dispatch", "renew"),
                    [i for i, _ in rows],
                    [t for _, t in rows],
                    now + timedelta(seconds=self.lease_seconds),
                    now + timedelta(seconds=self.lease_seconds * 2 / 3),
                    self.worker,
                )
        except _ERRORS as exc:
            if not self._failing:
                logger.warning("renewing leases failed", extra={"error": type(exc).__name__})
            self._failing = True
            return False
        self.renewed += renewed
        if self._failing:
            self._failing = False
            if self.on_back is not None:
                self.on_back()
        return True
