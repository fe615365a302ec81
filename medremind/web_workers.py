"""``WEB_CONCURRENCY`` web processes sharing ``$PORT``, under one supervising process.

One Python process serves on one core; Heroku's Python buildpack sets ``WEB_CONCURRENCY`` from
the dyno's size. The supervisor does what must happen once per dyno, then starts the workers:

- it registers the Telegram webhook (and learns the bot's username for invite links) once, so N
  workers do not each call ``setWebhook``;
- it binds ``$PORT`` once and hands the listening socket to every worker (the kernel spreads
  connections over the processes accepting on it); a port already in use fails here, exit 1;
- only the first worker resumes inbound updates an earlier process left unprocessed (at start,
  then every 30 s those a minute old: another machine's process may have died). Resuming is
  safe anywhere (every update is processed under its row lock and only while ``received``), so
  a worker started to replace one that died resumes too, picking up what that one left.

Each worker is a full ``medremind web`` process (:func:`medremind.web_process.serve`) with its
own event loop and database pool: the database sees ``WEB_CONCURRENCY`` x
``MEDREMIND_DB_POOL_MAX`` connections at most. SIGTERM or SIGINT to the supervisor is passed to
every worker as SIGTERM (Heroku signals the whole dyno anyway); each finishes its requests and
processing within ``MEDREMIND_SHUTDOWN_GRACE``; the supervisor returns 0 when all stopped cleanly.
A worker that dies while serving is replaced; one that fails during start-up stops the lot.
Start-up ends when the worker says it serves (its app started, the socket listening: an event
it sets), not after a fixed time: a worker killed by a signal (the OOM killer, an operator's
kill -9) is replaced whenever that happens, and one that exits on its own before it served
failed at start-up (a bad setting, an unmigrated database), which a restart would only repeat.
A 10-second window did both wrong: a worker SIGKILLed while still starting on a slow, loaded
machine stopped every worker of the dyno, and one failing after 10 s of start-up was restarted
for ever (found in an operator drill).
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from typing import NamedTuple

from core.settings import Settings

logger = logging.getLogger(__name__)

# Past the shutdown grace, a worker still running is killed.
KILL_AFTER_GRACE_SECONDS = 5.0
# Listen backlog of the shared socket (uvicorn's default).
BACKLOG = 2048
# A straggler past the grace is asked for its threads' stacks (code locations only, to its log)
# before it is killed: a worker that does not stop is a bug to find, not only to end.
STACK_DUMP_SIGNAL = signal.SIGUSR2
STACK_DUMP_WAIT_SECONDS = 1.0


def run_web(settings: Settings) -> int:
    """``medremind web`` until SIGTERM/SIGINT: one process, or ``WEB_CONCURRENCY`` supervised ones.

    The choice lives here, above :mod:`medremind.web_process`, so that imports point one way.
    """
    if settings.web_concurrency > 1:
        return supervise(settings)
    from medremind.runtime import run_async
    from medremind.web_process import serve

    return run_async(serve(settings))


def supervise(settings: Settings, *, host: str = "0.0.0.0") -> int:  # noqa: S104 (a dyno)
    """Register the webhook, bind ``$PORT``, run ``WEB_CONCURRENCY`` workers; the exit code."""
    from medremind.runtime import run_async
    from medremind.web_process import register_clinic_bots_in_background, register_once

    username = run_async(register_once(settings))
    try:
        listener = bind(host, settings.port)
    except OSError as exc:
        logger.error("cannot listen on PORT", extra={"port": settings.port, "error": str(exc)})
        return 1

    # The clinics' bots once a worker serves: a start-up that fails says why, and nothing else.
    def serving() -> None:
        register_clinic_bots_in_background(settings)

    return _Supervisor(settings, listener, username, on_serving=serving).run()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, inheritable by the workers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(BACKLOG)
    listener.set_inheritable(True)
    return listener


def worker_main(
    listener: socket.socket, bot_username: str | None, resume: bool, started: EventType
) -> None:
    """A worker process: read the settings, log as the parent does, serve on ``listener``;
    ``started`` is set once it serves."""
    from core.logs import configure_logging
    from core.settings import load_settings
    from medremind.runtime import run_async
    from medremind.web_process import serve

    settings = load_settings()
    configure_logging(settings.log_level)
    # Frames name files, functions and lines only: no message, name or medicine reaches the log.
    faulthandler.register(STACK_DUMP_SIGNAL, all_threads=True)
    sys.exit(
        run_async(
            serve(
                settings,
                sockets=[listener],
                register_webhook=False,
                bot_username=bot_username,
                resume_on_startup=resume,
                on_started=started.set,
            )
        )
    )


class _Worker(NamedTuple):
    process: BaseProcess
    started_at: float  # time.monotonic() when it was started
    started: EventType  # set by the worker once it serves


class _Supervisor:
    """Starts, watches, replaces and stops the workers (spawned, not forked: no inherited loop)."""

    def __init__(
        self,
        settings: Settings,
        listener: socket.socket,
        username: str | None,
        on_serving: Callable[[], object] | None = None,
    ):
        self.settings = settings
        self.listener = listener
        self.username = username
        self.on_serving = on_serving  # called once, when the first worker serves
        self.context = multiprocessing.get_context("spawn")
        # Each worker, when it was started and its event set once it serves.
        self.workers: list[_Worker] = []
        self.stopping = False

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        try:
            self.workers = [self._start(resume=index == 0) for index in range(self._count)]
            logger.info("web workers started", extra={"workers": self._count})
            failed = self._watch()
            return self._stop_all() or failed
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.listener.close()

    @property
    def _count(self) -> int:
        return self.settings.web_concurrency

    def _start(self, *, resume: bool) -> _Worker:
        started = self.context.Event()
        process = self.context.Process(
            target=worker_main,
            args=(self.listener, self.username, resume, started),
            name="medremind-web-worker",
        )
        process.start()
        return _Worker(process, time.monotonic(), started)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _watch(self) -> int:
        """Until a stop signal: replace workers that die; 1 when one fails at start-up."""
        while not self.stopping:
            sentinels = [worker.process.sentinel for worker in self.workers]
            multiprocessing.connection.wait(sentinels, timeout=0.5)
            serving = self.on_serving
            if serving is not None and any(w.started.is_set() for w in self.workers):
                self.on_serving = None
                serving()
            for index, worker in enumerate(self.workers):
                code = worker.process.exitcode
                if code is None or self.stopping:
                    continue
                # Killed by a signal (exit code -N) is no fault of its start-up: replaced.
                if not worker.started.is_set() and code >= 0:
                    logger.error("web worker failed at start-up", extra={"code": code})
                    return 1
                logger.warning("web worker exited; starting another", extra={"code": code})
                self.workers[index] = self._start(resume=True)
        return 0

    def _stop_all(self) -> int:
        """SIGTERM every worker, wait for them (killing stragglers); 1 unless all exited 0."""
        for worker in self.workers:
            if worker.process.exitcode is None and worker.process.pid is not None:
                os.kill(worker.process.pid, signal.SIGTERM)
        deadline = (
            time.monotonic() + self.settings.shutdown_grace_seconds + KILL_AFTER_GRACE_SECONDS
        )
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                self._kill_straggler(worker.process, worker.started_at)
        # A worker stopped by this SIGTERM before it installed its handlers was still starting:
        # it held no requests, so that is a clean stop too.
        clean = (0, -signal.SIGTERM)
        return 0 if all(worker.process.exitcode in clean for worker in self.workers) else 1

    @staticmethod
    def _kill_straggler(process: BaseProcess, started: float) -> None:
        """Log which worker overran the grace and where it stood, then kill it."""
        logger.error(
            "web worker did not stop in time; killing it",
            extra={"pid": process.pid, "age_seconds": round(time.monotonic() - started, 1)},
        )
        if process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, STACK_DUMP_SIGNAL)
            process.join(STACK_DUMP_WAIT_SECONDS)
        process.kill()
        process.join()


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
