"""The CPU the embedded PostgreSQL servers of this process have used so far (Linux ``/proc``).

``pg_ctl`` starts the postmaster and leaves it to PID 1, so its CPU and its backends' is in
neither a test process's ``RUSAGE_CHILDREN`` (tests.timeline's "children") nor the total
``/usr/bin/time`` prints for a run of the suite: on tests/planner (``-n 2``) the two servers used
14.6 CPU-s, as much as pytest and every process it waited for together (14.6). tests.timeline
records it per test with this module.

A server's figure is its postmaster's CPU, the ended backends' it has reaped and the running
backends'. :mod:`tests.embedded_server` calls :func:`started` and :func:`stopping` around each
server it runs; :func:`total_seconds` is the sum over this process's servers, stopped ones
included (their last reading).
"""

from __future__ import annotations

import os
from pathlib import Path

_running: list[Path] = []
_stopped_seconds = 0.0


def stat_fields(pid: str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command's closing parenthesis, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # ended since /proc was listed, or no /proc
        return None
    return text.rsplit(")", 1)[1].split()


def _ticks(fields: list[str]) -> int:
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), 11-14 after the command.
    return sum(int(value) for value in fields[11:15])


def server_seconds(pgdata: Path) -> float | None:
    """The CPU of the server running on ``pgdata`` so far, or None when none runs there."""
    try:
        postmaster = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    own = stat_fields(postmaster)
    if own is None:
        return None
    ticks = _ticks(own)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            fields = stat_fields(pid)
            if fields is not None and fields[1] == postmaster:  # fields[1]: the parent's pid
                ticks += _ticks(fields)
    return ticks / os.sysconf("SC_CLK_TCK")


def started(pgdata: Path) -> None:
    """Count the server now running on ``pgdata``."""
    _running.append(pgdata)


def stopping(pgdata: Path) -> None:
    """Keep the last reading of the server on ``pgdata``, about to stop."""
    global _stopped_seconds
    _stopped_seconds += server_seconds(pgdata) or 0.0
    _running.remove(pgdata)


def total_seconds() -> float:
    """The CPU of every embedded server this process has run, to now."""
    return _stopped_seconds + sum(server_seconds(pgdata) or 0.0 for pgdata in _running)
