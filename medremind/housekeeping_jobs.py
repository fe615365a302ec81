"""The worker's housekeeping jobs (APScheduler): one pass at a time, and at shutdown they
finish, or stop quietly.

A pass longer than its interval (the webhook sender over ~150 deliveries to slow endpoints, 2 s
apart) had APScheduler log a WARNING at each tick it fell on ("Execution of job ... skipped:
maximum number of running instances reached"), every 2 s for as long as the pass ran: an
operator's log filled with a normal, busy worker. :meth:`JobRuns.every` takes the job off the
schedule while a pass runs and puts it back at the end, at the next tick of its interval: no
tick falls on a running pass, and none is owed (each pass takes everything due when it runs).

APScheduler's ``AsyncIOScheduler.shutdown(wait=False)`` cancels the jobs that are running, and
its executor logs each cancelled one as an ERROR with a traceback ("Job ... raised an
exception", ``CancelledError``): a worker stopped by SIGTERM while its planner tick ran (or
``medremind dev`` ending right after start, during its first tick) logged an error for a normal
stop. Found by hand (``make dev`` from a clean clone; a worker SIGTERMed in an operator drill).

:class:`JobRuns` wraps each job: the worker lets the running ones end for a moment after the
dispatcher has stopped, then cancels the rest, which log one INFO line and return.

A tick that comes late runs late. APScheduler skips a run more than ``misfire_grace_time`` (1 s
by default) past its time ("Run time of job ... was missed by 0:00:01.3", a WARNING): a worker
whose event loop was busy for a second as it started (its imports and connections on a loaded
host) skipped its first planner tick and planned nothing for a whole interval (60 s; a CI run's
tests/dispatch/test_worker_command.py waited for that tick). Each pass takes everything due when
it runs, so a late one is never wrong, and ``coalesce`` makes several owed ones one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

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

    def every(
        self,
        jobs: AsyncIOScheduler,
        job: Job,
        *,
        id: str,
        seconds: float,
        next_run_time: datetime | None = None,
    ) -> None:
        """Run ``job`` every ``seconds`` on ``jobs`` (first at ``next_run_time``, else after
        ``seconds``), never two passes at once and with no tick skipped (or logged) while a
        pass runs: the job is paused for the pass and resumed, at its next tick, after it."""
        from apscheduler.jobstores.base import JobLookupError
        from apscheduler.schedulers import SchedulerNotRunningError

        @functools.wraps(job)
        async def one_pass() -> None:
            jobs.pause_job(id)
            try:
                await job()
            finally:
                # A stopping worker's scheduler may be shut down (and its jobs gone) by now.
                with contextlib.suppress(JobLookupError, SchedulerNotRunningError):
                    jobs.resume_job(id)

        jobs.add_job(
            self.wrap(one_pass),
            "interval",
            seconds=seconds,
            id=id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # late, not skipped (see the module docstring)
            **({"next_run_time": next_run_time} if next_run_time is not None else {}),
        )

    async def finish(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the jobs running now."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=seconds)
