"""The processes a pytest process's tests started and left running, found at its session's end.

A test or fixture that starts a process (``medremind web``/``worker``/``dev``, ``next start``, a
node script, Chromium, an embedded PostgreSQL) must stop it: one left running holds its ports,
its memory and, on the CI host, its share of 2 cores for the rest of the run and after it.
tests/conftest.py's session fixture ``_no_process_left_running`` stops what a process shares
between its tests (the browser server, the fork server), then fails the session with
:func:`describe` of :func:`left_running`, each named with the test that was running when it
started, and kills them.

What counts as this process's: its descendants, and the processes whose environment carries this
session's mark (``PYTEST_MEDREMIND_SESSION``, set by :func:`mark_session` when pytest starts and
inherited by everything it starts, by the fork server's children and by a process whose parent
has ended, which Linux gives to PID 1). The mark is read from ``/proc/<pid>/environ``, the
environment a process started with. Not seen: a process started with an environment of its own
(no mark) once its parent has ended, and one that wrote its title over its environment
(PostgreSQL's backends: tests.embedded_server checks its servers by their data directory).

One pass over ``/proc`` at the end of each pytest process; nothing per test but a time and a name.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import secrets
import signal
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

VARIABLE = "PYTEST_MEDREMIND_SESSION"
# A process asked to stop just before the check (a test's last teardown, the browser server) may
# take a moment to end, seconds on a loaded 2-core host; only a process still there after this
# counts (the wait costs nothing when none is left).
GRACE_SECONDS = 30.0
_COMMAND_CHARS = 160

_test_starts: list[float] = []
_test_names: list[str] = []


@dataclass(frozen=True)
class Leftover:
    """A process still running: its id, when it started (seconds after the machine's boot, as
    ``/proc/<pid>/stat`` counts: ``CLOCK_BOOTTIME``), its command line."""

    pid: int
    started: float
    command: str


def mark_session() -> None:
    """Mark this process's environment, inherited by every process it starts from now on (a
    pytest-xdist worker replaces the mark it inherited from the controller)."""
    os.environ[VARIABLE] = f"{os.getpid()}-{secrets.token_hex(8)}"


def _since_boot() -> float:
    """Seconds since the machine's boot, on the clock ``/proc/<pid>/stat`` counts starts by.

    Read from ``/proc/uptime``, not ``clock_gettime(CLOCK_BOOTTIME)``: under
    tests/clock/run_at.py libfaketime moves that clock too, by weeks or years, while the kernel's
    start times stay real, and every leftover of such a run was named "(before the first test)"
    (tests/acceptance/test_test_server_cleanup.py at 2027-01-01T00:00:30Z)."""
    with open("/proc/uptime", "rb") as uptime:
        return float(uptime.read().split()[0])


def note_test_start(nodeid: str) -> None:
    """Note that the test ``nodeid`` starts now (to name the test a leftover started during)."""
    _test_starts.append(_since_boot())
    _test_names.append(nodeid)


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command's closing parenthesis, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # ended since /proc was listed
        return None
    return text.rsplit(")", 1)[1].split()


def _marked(pid: int, mark: bytes) -> bool:
    try:
        return mark in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # ended, or not ours to read
        return False


def _command(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    command = " ".join(a.decode(errors="replace") for a in args if a)
    return command if len(command) <= _COMMAND_CHARS else command[: _COMMAND_CHARS - 3] + "..."


def left_running() -> list[Leftover]:
    """This process's descendants and the processes carrying this session's mark, still running
    (zombies, which run nothing, left out)."""
    me = os.getpid()
    value = os.environ.get(VARIABLE)
    mark = f"{VARIABLE}={value}".encode() if value else None
    children: dict[int, list[int]] = defaultdict(list)
    start_ticks: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat(int(name))
        if fields is None or fields[0] == "Z":  # fields[0]: the state
            continue
        children[int(fields[1])].append(int(name))  # fields[1]: the parent's pid
        start_ticks[int(name)] = int(fields[19])  # starttime, clock ticks after boot
    found: set[int] = set()
    helpers = {pid for pid in children[me] if _ends_with_us(pid)}
    todo = [pid for pid in children[me] if pid not in helpers]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children[pid])
    if mark is not None:
        found.update(
            pid for pid in start_ticks if pid != me and pid not in helpers and _marked(pid, mark)
        )
    hertz = os.sysconf("SC_CLK_TCK")
    return sorted(
        (Leftover(pid, start_ticks[pid] / hertz, _command(pid)) for pid in found),
        key=lambda left: (left.started, left.pid),
    )


# Python's own helpers of this process (multiprocessing's resource tracker, started by a test's
# "spawn" context or Event, and its fork server): one per process, reading a pipe from it, they
# end when it does; a CI run failed on the tracker a web-worker test's Event had started.
_OWN_HELPERS = (
    "from multiprocessing.resource_tracker import main",
    "from multiprocessing.forkserver import main",
)


def _ends_with_us(pid: int) -> bool:
    """Whether our child ``pid`` is one of Python's helpers of this process (they end with it)."""
    command = _command(pid)
    return any(helper in command for helper in _OWN_HELPERS)


def _running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def still_running(grace: float | None = None) -> list[Leftover]:
    """:func:`left_running`, once those that end within ``grace`` seconds (default
    :data:`GRACE_SECONDS`) have ended: the wait watches the processes found first, then one
    more pass finds what is left."""
    left = left_running()
    deadline = time.monotonic() + (GRACE_SECONDS if grace is None else grace)
    while left and any(_running(p.pid) for p in left) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left_running() if left else left


def _started_during(started: float) -> str:
    # Clock ticks (10 ms) round a start down: one in a test's first tick is the test's.
    index = bisect.bisect_right(_test_starts, started + 0.01) - 1
    return _test_names[index] if index >= 0 else "(before the first test)"


def describe(left: list[Leftover]) -> str:
    """Why the session fails: each leftover with the test it started during."""
    lines = [
        f"{len(left)} process(es) started during this session still ran at its end (killed now);"
        " the test or fixture that starts a process must stop it and wait for it:"
    ]
    for process in left:
        lines.append(
            f"  pid {process.pid}, started during {_started_during(process.started)}:"
            f" {process.command}"
        )
    return "\n".join(lines)


def kill(left: list[Leftover]) -> None:
    """Kill the leftovers (SIGKILL: they were asked to stop already, or never were)."""
    for process in left:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(process.pid, signal.SIGKILL)
