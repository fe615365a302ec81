"""A web worker that overruns the shutdown grace is asked for its stacks, then killed.

``test_web_concurrency_replaces_a_worker_that_dies`` once failed under load with only "web worker
did not stop in time; killing it" to go on. The supervisor now says which worker (pid, age) and,
before the kill, has it print every thread's stack to its log (code locations only).
"""

from __future__ import annotations

import faulthandler
import logging
import multiprocessing
import signal
import time
from multiprocessing.synchronize import Event

import pytest

from medremind import web_workers


def _stuck_in_shutdown(ready: Event) -> None:
    """A worker that ignores SIGTERM and never returns, registered as worker_main registers."""
    faulthandler.register(web_workers.STACK_DUMP_SIGNAL, all_threads=True)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    _waiting_for_something_that_never_comes()


def _waiting_for_something_that_never_comes() -> None:
    while True:
        time.sleep(0.05)


def test_a_straggler_prints_its_stacks_before_it_is_killed(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(target=_stuck_in_shutdown, args=(ready,))
    process.start()
    try:
        assert ready.wait(60), "the child never started"
        with caplog.at_level(logging.ERROR, logger="medremind.web_workers"):
            web_workers._Supervisor._kill_straggler(process, time.monotonic() - 12.0)
    finally:
        if process.is_alive():
            process.kill()
            process.join()

    assert process.exitcode == -signal.SIGKILL
    (record,) = [r for r in caplog.records if "did not stop in time" in r.getMessage()]
    assert record.pid == process.pid  # type: ignore[attr-defined]
    assert record.age_seconds >= 12.0  # type: ignore[attr-defined]
    stacks = capfd.readouterr().err
    assert "in _stuck_in_shutdown" in stacks, stacks[-3000:]
    assert "test_web_worker_stragglers.py" in stacks
