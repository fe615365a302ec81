"""A task that runs a pass now and every ``interval`` seconds until it is stopped.

The worker's read-ahead tasks (scheduler.claim_prefetch, scheduler.render_ahead) are such
passes: each is worth doing, none is worth stopping the worker for, so a pass that fails on the
database or the network is logged (its error's class only: never a value) and tried again at the
next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

# What a pass may meet on the database or the network; anything else is a bug and propagates.
PASS_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


class Periodic:
    """``await task.run()`` until :meth:`stop`; subclasses implement :meth:`once`."""

    # Logged (at WARNING, with the error's class) when a pass fails.
    failure = "a periodic pass failed"

    def __init__(self, interval: float, logger: logging.Logger) -> None:
        self.interval = interval
        self._logger = logger
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Make :meth:`run` return; idempotent."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """:meth:`stop` was called."""
        return self._stop.is_set()

    async def once(self) -> int:
        """One pass; how much it did."""
        raise NotImplementedError

    async def run(self) -> None:
        """A pass now and every ``interval``; a failed pass is logged and retried."""
        while not self._stop.is_set():
            try:
                await self.once()
            except PASS_ERRORS as exc:
                self._logger.warning(self.failure, extra={"error": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
