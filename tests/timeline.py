"""A pytest plugin run by hand, not by ``make test``: each test's start, end and CPU as JSON lines,
to see where the suite's wall time and CPU go (``tests/timeline_report.py`` summarises them).

``MEDREMIND_TEST_TIMELINE=/tmp/t.jsonl .venv/bin/pytest -p tests.timeline -n 4 ...`` writes one
file per process (``/tmp/t.jsonl.gw0``, ...): a line per test with its id, worker, wall start and
end (``time.time()``), the process's own CPU during the test (``time.process_time()``, all its
threads) and its children's (``RUSAGE_CHILDREN``: the processes a test started and waited for,
``medremind web``, workers, node; ``forked_cpu``: those forked by tests.cli_processes, once they
have ended) and its embedded PostgreSQL server's (``postgres_cpu``: the
postmaster and its backends, which neither of the others nor ``/usr/bin/time`` counts; none on
``TEST_DATABASE_URL``; tests.server_cpu), and a line when the process starts and ends its session.
The Chromium a process's browser tests share (tests.dashboard.browser_server) is reaped when it
has been idle a while or at the session's end (the last test's teardown, tests.conftest
``_no_process_left_running``): its CPU is in the children of the test running then. So is the fork
server's own (its imports), stopped in that same teardown; the processes it forked are not counted
there again: they were each in ``forked_cpu`` of the test they ended in (read from the fork
server's reaped children, ``/proc/<pid>/stat``). ``MEDREMIND_TEST_NO_FORK=1`` starts them as
new interpreters, in ``children_cpu``.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from typing import IO

import pytest

from tests import server_cpu
from tests.cli_processes import forked_cpu_seconds

_out: IO[str] | None = None


def _children_cpu() -> tuple[float, float]:
    """The children's CPU outside the fork server's, and the fork server's children's."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    forked, in_children = forked_cpu_seconds()
    return usage.ru_utime + usage.ru_stime - in_children, forked


def _write(record: dict[str, object]) -> None:
    if _out is not None:
        _out.write(json.dumps(record) + "\n")
        _out.flush()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "master")


def pytest_configure(config: pytest.Config) -> None:
    global _out
    path = os.environ.get("MEDREMIND_TEST_TIMELINE")
    if not path or _out is not None:
        return
    _out = open(f"{path}.{_worker()}", "a", encoding="utf-8")  # noqa: SIM115 (closed at unconfigure)
    _write({"event": "start", "worker": _worker(), "t": time.time(), "cpu": time.process_time()})


def pytest_unconfigure(config: pytest.Config) -> None:
    global _out
    if _out is None:
        return
    _write(
        {
            "event": "end",
            "worker": _worker(),
            "t": time.time(),
            "cpu": time.process_time(),
            "children_cpu": _children_cpu()[0],
            "forked_cpu": _children_cpu()[1],
            "postgres_cpu": server_cpu.total_seconds(),
        }
    )
    _out.close()
    _out = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    start, cpu, (children, forked) = time.time(), time.process_time(), _children_cpu()
    postgres = server_cpu.total_seconds()
    yield
    _write(
        {
            "event": "test",
            "id": item.nodeid,
            "worker": _worker(),
            "start": start,
            "end": time.time(),
            "cpu": time.process_time() - cpu,
            "children_cpu": _children_cpu()[0] - children,
            "forked_cpu": _children_cpu()[1] - forked,
            "postgres_cpu": server_cpu.total_seconds() - postgres,
        }
    )
