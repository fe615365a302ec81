"""The worker's housekeeping jobs (APScheduler) at shutdown: they finish, or stop quietly.

APScheduler's ``AsyncIOScheduler.shutdown(wait=False)`` cancels the jobs that are running, and
its executor logs each cancelled one as an ERROR with a traceback ("Job ... raised an
exception", ``CancelledError``): a worker stopped by SIGTERM while its planner tick ran (or
``medremind dev`` ending right after start, during its first tick) logged an error for a normal
stop. Found by hand (``make dev`` from a clean clone; a worker SIGTERMed in an operator drill).

:class:`JobRuns` wraps each job: the worker lets the running ones end for a moment after the
dispatcher has stopped, then cancels the rest, which log one INFO line and return.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class JobRuns:
    """The jobs running now, so that a stopping worker can wait for them."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[object]] = set()

    def wrap(self, job: Job) -> Job:
        """``job`` as APScheduler runs it: tracked while it runs, quiet when cancelled."""

        @functools.wraps(job)
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                # Only the shutdown cancels a job: its transaction is rolled back, and the next
                # run (of this worker or another) takes up what it left.
                logger.info("job stopped by the shutdown", extra={"job": job.__name__})
            finally:
                self._running.discard(task)

        return run

    async def finish(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the jobs running now."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=seconds)
