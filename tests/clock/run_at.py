"""Run the test suite (or any command) with every process's clock moved to a chosen instant.

    .venv/bin/python tests/clock/run_at.py 2027-03-28T00:30:00Z -- .venv/bin/pytest -q tests/web

libfaketime (Debian's ``faketime`` package) is preloaded into the command and everything it starts,
the ``medremind`` subprocesses and the browser included, with one fixed offset from the real clock,
so all of them agree on the moved time and it keeps running. The embedded PostgreSQL server sees
the same moved wall clock from a small library of ours instead (``wall_clock_offset.c``, built with
the machine's C compiler): under libfaketime its timeouts compare a real clock with a moved one,
and a deadlock was never detected (the file says why). ``--tz`` sets the machine timezone (``TZ``)
seen by those processes as well.

This is how the suite is checked to pass at any hour (issue 13): it is a tool run by hand, not part
of ``make test``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

_LIBRARIES = (
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
    Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"),
    Path("/usr/lib/faketime/libfaketimeMT.so.1"),
)


def missing() -> str | None:
    """What this machine lacks to run a command at another instant, if anything."""
    if not any(path.exists() for path in _LIBRARIES):
        return "libfaketime not found: apt-get install faketime (Debian's package)"
    if _compiler() is None:
        return "no C compiler for tests/clock/wall_clock_offset.c: apt-get install gcc"
    return None


def _library() -> Path:
    for path in _LIBRARIES:
        if path.exists():
            return path
    raise SystemExit(missing())


def _compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


# The programs whose wall clock wall_clock_offset.c moves instead of libfaketime (which skips them).
_OWN_CLOCK_COMMANDS = ("postgres",)
_OFFSET_SOURCE = Path(__file__).with_name("wall_clock_offset.c")


def _build_offset_library(directory: Path) -> Path:
    """Compile wall_clock_offset.c into ``directory`` (readable by the server's own system user,
    which the embedded server runs as when the suite runs as root)."""
    compiler = _compiler()
    if compiler is None:
        raise SystemExit(missing())
    library = directory / "wall_clock_offset.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(_OFFSET_SOURCE), "-ldl"],
        check=True,
    )
    directory.chmod(0o755)
    return library


# libfaketime keeps a semaphore and a shared counter in /dev/shm for the processes it runs in,
# named by FAKETIME_SHARED. A process that cannot open them makes its own, named by its pid
# (/faketime_sem_<pid>, mode 0600), and exits if that name is taken. The first process made them
# for the run, as root when the suite runs as root, so every process of the embedded server's own
# system user made its own; and a process that ends without libfaketime's destructor (an image
# replaced by exec, such as `nice`, a shell, a killed process) leaves its names behind. So stale
# root names piled up in /dev/shm, and a pg_ctl whose pid was one of them exited: "sem_open failed
# and recreation attempts failed: Permission denied" (tests/acceptance/test_test_server_cleanup.py
# at 2027-03-28T01:30Z, with 35 stale names). Made here, open to every user and removed at the
# end, these are the only ones any process of the run uses.
# struct ft_shared_s of libfaketime 0.9.x: ticks, file_idx, then the start time (real, monotonic,
# monotonic raw, boot timespecs), its tv_nsec -1 for "not set yet", as ft_shm_create writes it.
_SHARED_INITIAL = struct.pack("<QQ8q", 0, 0, 0, -1, 0, -1, 0, -1, 0, 0)


def _libc() -> ctypes.CDLL:
    """The C library's POSIX semaphores and shared memory (glibc before 2.34: libpthread, librt)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if not hasattr(libc, "sem_open"):
        libc = ctypes.CDLL(ctypes.util.find_library("pthread"), use_errno=True)
    if not hasattr(libc, "shm_open"):
        libc = ctypes.CDLL(ctypes.util.find_library("rt"), use_errno=True)
    libc.sem_open.restype = ctypes.c_void_p
    libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
    libc.sem_close.argtypes = [ctypes.c_void_p]
    libc.sem_unlink.argtypes = [ctypes.c_char_p]
    libc.shm_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint]
    libc.shm_unlink.argtypes = [ctypes.c_char_p]
    return libc


@contextlib.contextmanager
def _shared_objects() -> Iterator[str]:
    """libfaketime's semaphore and shared memory for every process of the run (FAKETIME_SHARED),
    readable and writable by every user; removed on exit."""
    libc = _libc()
    semaphore = f"/faketime_sem_run_at_{os.getpid()}".encode()
    memory = f"/faketime_shm_run_at_{os.getpid()}".encode()
    umask = os.umask(0)  # the modes below as given: every user's processes open both
    try:
        handle = libc.sem_open(semaphore, os.O_CREAT | os.O_EXCL, 0o666, 1)
        if handle in (None, ctypes.c_void_p(-1).value):
            raise SystemExit(f"run_at: sem_open: {os.strerror(ctypes.get_errno())}")
        libc.sem_close(handle)
        fd = libc.shm_open(memory, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o666)
        if fd < 0:
            libc.sem_unlink(semaphore)
            raise SystemExit(f"run_at: shm_open: {os.strerror(ctypes.get_errno())}")
    finally:
        os.umask(umask)
    try:
        with os.fdopen(fd, "wb") as shared:
            shared.write(_SHARED_INITIAL)
        yield f"{semaphore.decode()} {memory.decode()}"
    finally:
        libc.sem_unlink(semaphore)
        libc.shm_unlink(memory)


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise SystemExit(f"{text!r}: give the instant with its offset, e.g. 2027-03-28T00:30:00Z")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("instant", help="ISO 8601 instant with offset, e.g. 2026-12-31T23:59:00Z")
    parser.add_argument("--tz", help="TZ for the command, e.g. America/New_York (default: as is)")
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :] or [".venv/bin/pytest", "-q"]
    offset = int((_instant(args.instant) - datetime.now(UTC)).total_seconds())
    libfaketime = _library()
    with tempfile.TemporaryDirectory(prefix="run-at-") as directory, _shared_objects() as shared:
        env = dict(os.environ)
        env["FAKETIME_SHARED"] = shared
        # Ours first: in the commands libfaketime skips it moves the wall clock itself, in the
        # others it passes each call on to libfaketime.
        env["LD_PRELOAD"] = f"{_build_offset_library(Path(directory))}:{libfaketime}"
        env["FAKETIME"] = f"{offset:+d}"  # seconds; the same offset in every process
        env["FAKETIME_SKIP_CMDS"] = ",".join(_OWN_CLOCK_COMMANDS)
        # The monotonic clock moves by the same offset under libfaketime (it only matters that it
        # is steady): left real, libfaketime turns an absolute clock_nanosleep deadline into a
        # negative one (EINVAL). The server's stays real (it only measures intervals with it).
        if args.tz:
            env["TZ"] = args.tz
        started = time.monotonic()
        zone = env.get("TZ", "")
        print(f"run_at: {args.instant} (offset {offset:+d} s, TZ={zone}): {' '.join(command)}")
        sys.stdout.flush()
        code = subprocess.call(command, env=env)
        print(f"run_at: exit {code} after {time.monotonic() - started:.0f} s")
        return code


if __name__ == "__main__":
    sys.exit(main())
