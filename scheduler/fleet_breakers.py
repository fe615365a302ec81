"""The circuit breakers shared by the fleet through PostgreSQL (``provider_breakers``).

One :class:`FleetBreakers` per process ties its :class:`~scheduler.breaker.Breakers` to the table:
:meth:`FleetBreakers.sync` is one statement (``provider_breakers_sync``) that writes the breakers
this process opened or closed since the last, asks for the probes its waiting sends need, and
reads every open breaker back (:meth:`~scheduler.breaker.Breakers.adopt`). The worker runs it
once a second, the web process at most as often and
only when it sends (:meth:`FleetBreakers.fresh`): the sends themselves read the breakers in
memory, never the table.

So one worker's opening holds every other worker and the web process within about a second, and
the probe after each cooldown goes from one process only (``probes=False``: the web process never
asks for one; its replies wait for the workers' probe). A database away keeps each process on what
it knew (its own breakers still open and close as before); what it could not write goes with the
next exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from core.sql import query
from scheduler.breaker import Breakers

DEFAULT_SYNC_SECONDS = 1.0


class FleetBreakers:
    """``breakers`` shared through the table under the name ``worker`` (the worker's id, or the
    web process's ``web:<host>:<pid>``)."""

    def __init__(
        self,
        breakers: Breakers,
        worker: str,
        *,
        probes: bool = True,
        interval: float = DEFAULT_SYNC_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        breakers.shared = True
        self.breakers = breakers
        self.worker = worker
        self.probes = probes
        self.interval = interval
        self.clock = clock
        self._synced_at = float("-inf")
        self._first = True  # no exchange has succeeded yet
        self._syncing: asyncio.Task[None] | None = None

    async def sync(self, pool: Any) -> None:
        """One exchange with the table (raises the database's error; the changes it could not
        write go with the next)."""
        opened, closed, wanted = self.breakers.changes()
        try:
            rows = await pool.fetch(
                query("breakers", "sync"),
                self.worker,
                opened,
                closed,
                wanted if self.probes else [],
                self._first,  # a process that starts may have new credentials
            )
        except BaseException:
            self.breakers.unsent(opened, closed)
            raise
        self._synced_at = self.clock()
        self._first = False
        self.breakers.adopt(rows, self.worker)

    async def fresh(self, pool: Any, *, now: bool = False) -> None:
        """Read the table when the last read is older than ``interval``: at most one exchange a
        second however many sends ask, the others going on with what is known. A failed read is
        the database's (the sends' own records will say so): the next send tries again.
        ``now``: whatever the last read's age (a breaker just opened here, for the fleet)."""
        if not now and self.clock() - self._synced_at < self.interval:
            return
        if self._syncing is not None and not self._syncing.done():
            await self._wait_syncing()  # one exchange at a time
            if not now:
                return
        self._synced_at = self.clock()  # the others go on meanwhile
        self._syncing = asyncio.ensure_future(self.sync(pool))
        # Its error is the database's, seen by the sends' own records: never "not retrieved".
        self._syncing.add_done_callback(lambda task: task.cancelled() or task.exception())
        await self._wait_syncing()

    async def _wait_syncing(self) -> None:
        """Wait for the exchange under way (a cancelled waiter leaves it running)."""
        assert self._syncing is not None
        with contextlib.suppress(Exception):  # the database away: the breakers known hold
            await asyncio.shield(self._syncing)


__all__ = ["DEFAULT_SYNC_SECONDS", "FleetBreakers"]
