"""The worker's stop deadline: past it, the stop no longer waits on the database.

A worker whose database answers nothing at all (a partition that drops packets, a failed-over
address) cannot finish its stop by waiting: asyncpg, releasing a connection whose statement was
cancelled, waits for a CancelRequest on a new connection that is never answered; a connect waits
60 s; ``Pool.close()`` waits for those releases. Heroku kills the process 30 s after SIGTERM.
:class:`StopDeadline` runs a callback (the worker's: the dispatcher gives up its final waits and
every database connection is aborted) once the stop has lasted ``seconds``; while the database
answers, the stop ends first and the callback never runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class StopDeadline:
    """``async with StopDeadline() as deadline``: :meth:`start` arms it at the stop; leaving the
    block disarms it (so it covers whatever the block closes, the database pool included)."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._at: float | None = None  # monotonic
        self.fired = False

    def start(self, seconds: float, on_time_up: Callable[[], None]) -> None:
        """Run ``on_time_up`` in ``seconds`` unless the block is left first; idempotent (the
        first call's deadline holds)."""
        if self._task is not None:
            return
        self._at = time.monotonic() + seconds
        self._task = asyncio.get_running_loop().create_task(
            self._wait(seconds, on_time_up), name="stop-deadline"
        )

    def left(self) -> float | None:
        """Seconds until the deadline (0 once past); None before :meth:`start`."""
        if self._at is None:
            return None
        return max(0.0, self._at - time.monotonic())

    async def _wait(self, seconds: float, on_time_up: Callable[[], None]) -> None:
        await asyncio.sleep(seconds)
        self.fired = True
        logger.warning(
            "stop still waiting on the database; aborting its connections",
            extra={"after_seconds": round(seconds, 1)},
        )
        on_time_up()

    async def __aenter__(self) -> StopDeadline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
