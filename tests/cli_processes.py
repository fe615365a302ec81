"""Start ``python -m medremind.cli <args>`` for a test, forked from a process that has imported
the commands already (tests.cli_zygote) instead of a new interpreter importing them again.

Importing what ``medremind web`` or ``worker`` needs costs about a CPU-second; the suite starts
those processes a few hundred times, on 2 cores. A forked child is still a process of its own
(its pid, environment, working directory, output file, signals, exit code), running the same
code from the same entry point (``runpy`` as ``-m`` does); only the imports are done already.

:func:`spawn_cli` (and :func:`spawn_module`, for a test's own entry point such as
``tests.dispatch.worker_entry``) answers a :class:`subprocess.Popen` (``pid``, ``poll``, ``wait``,
``send_signal``, ``terminate``, ``kill``, ``returncode``, and ``stdin``/``stdout``/``stderr``
asked for as pipes). It forks only where a new interpreter would start the same way: the same
``PYTHON*``, ``LD_*`` and faketime variables as the fork server's (a test giving one worker
another clock gets a new interpreter), standard input from ``DEVNULL`` or a pipe, output to
files, ``DEVNULL`` or pipes; anything else, or ``MEDREMIND_TEST_NO_FORK=1``, is a plain
:class:`subprocess.Popen`. Processes forked this way are the fork server's children, so their CPU
is in neither the test's ``RUSAGE_CHILDREN`` nor tests.timeline's "children" column.

A test need not set ``PYTHONPATH`` for its process to import ``tests``: run from the repository
(``cwd``), ``-m`` puts it first on the path, as the fork server's ``-c`` does. Setting it where
pytest runs without one (CI's ``make test``) made each such process a new interpreter: the
fleet tests' workers, ~1 CPU-s of imports each.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import functools
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from tests import server_cpu

ROOT = Path(__file__).resolve().parents[1]

# Variables an interpreter or the C library reads once, at its start: a fork keeps the server's.
_START_PREFIXES = ("PYTHON", "LD_", "FAKETIME", "DONT_FAKE", "MALLOC", "FAKERANDOM")

_Output = IO[Any] | int | None


def _start_variables(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(_START_PREFIXES)}


class _ForkServer:
    """The fork server (tests.cli_zygote) of this process."""

    def __init__(self, start_env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        self._lock = threading.Lock()
        code = f"from tests.cli_zygote import serve; serve({theirs.fileno()})"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=start_env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()

    def fork(self, request: dict[str, Any], fds: list[int]) -> int:
        """Send ``request`` with ``fds`` (stdout, stderr, status pipe); the child's pid."""
        with self._lock:
            payload = json.dumps(request).encode()
            self._socket.sendmsg(
                [payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            )
            answer = self._socket.recv(4096)
        if not answer:
            raise RuntimeError(f"the fork server exited ({self._process.poll()})")
        return int(json.loads(answer)["pid"])

    def reaped_seconds(self) -> float:
        """The CPU of the children this server has reaped so far (0 once it has ended)."""
        fields = server_cpu.stat_fields(str(self._process.pid))
        if fields is None:
            return 0.0
        # cutime, cstime: fields 16-17 of proc(5), 13-14 after the command.
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self._socket.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


_server: _ForkServer | None = None
_server_lock = threading.Lock()
# What the stopped fork servers' children used: reaped with the server into this process's
# RUSAGE_CHILDREN (tests.timeline counts it once, as forked).
_stopped_reaped = 0.0


def _fork_server() -> _ForkServer:
    """This process's fork server, started on first use with this process's environment."""
    global _server
    with _server_lock:
        if _server is None:
            _server = _ForkServer(dict(os.environ))
            atexit.register(_server.close)
        return _server


def stop_fork_server() -> None:
    """Stop this process's fork server, if one runs (at the session's end: tests.conftest). The
    processes it forked are not stopped: each is its test's to stop."""
    global _server, _stopped_reaped
    with _server_lock:
        server, _server = _server, None
    if server is not None:
        atexit.unregister(server.close)
        # Its children have all ended (each test stops its own): this is their whole CPU.
        reaped = server.reaped_seconds()
        server.close()
        _stopped_reaped += reaped


def forked_cpu_seconds() -> tuple[float, float]:
    """The CPU of the processes this process's fork servers forked, ended and reaped so far (in no
    test's RUSAGE_CHILDREN while the server runs: tests.timeline reads it per test), and the part
    of it already in this process's RUSAGE_CHILDREN (the stopped servers', reaped with them)."""
    server = _server
    live = server.reaped_seconds() if server is not None else 0.0
    return live + _stopped_reaped, _stopped_reaped


class ForkedProcess(subprocess.Popen[bytes]):
    """A :class:`subprocess.Popen` of a child of the fork server: its exit code comes through a
    pipe the server writes when it reaps the child."""

    def __init__(
        self, args: list[str], pid: int, status_fd: int, pipes: dict[str, IO[bytes]]
    ) -> None:
        # Popen.__init__ starts a process: the attributes its other methods read are set here.
        self.args = args
        self.pid = pid
        self.returncode: int | None = None
        # This end of each stream asked for as subprocess.PIPE, as Popen's (binary, buffered).
        self.stdin = pipes.get("stdin")
        self.stdout = pipes.get("stdout")
        self.stderr = pipes.get("stderr")
        self._child_created = False  # nothing for Popen.__del__ to reap: the server does
        self._status_fd = status_fd
        self._status_lock = threading.Lock()

    def _read_status(self, timeout: float | None) -> int | None:
        with self._status_lock:
            if self.returncode is not None:
                return self.returncode
            ready, _, _ = select.select([self._status_fd], [], [], timeout)
            if not ready:
                return None
            data = b""
            while chunk := os.read(self._status_fd, 64):
                data += chunk
            os.close(self._status_fd)
            # An empty status: the server ended before reaping the child (it was killed).
            self.returncode = int(data) if data else -9
            return self.returncode

    def poll(self) -> int | None:
        """The exit code, or None while the process runs."""
        return self._read_status(0)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit (``subprocess.TimeoutExpired`` after ``timeout`` seconds)."""
        code = self._read_status(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return code

    def send_signal(self, sig: int) -> None:
        """Signal the process unless it has ended."""
        if self.poll() is None:
            os.kill(self.pid, sig)

    def __del__(self) -> None:  # the status pipe, if nobody read it
        if getattr(self, "returncode", 0) is None:
            with contextlib.suppress(OSError):
                os.close(self._status_fd)


def _output_fd(output: _Output, inherited: int) -> int | None:
    """The descriptor the child uses for ``output`` (None: /dev/null), as Popen reads it."""
    if output is None:
        return inherited
    if output == subprocess.DEVNULL:
        return None
    if isinstance(output, int):
        return output
    return output.fileno()


def spawn_module(
    module: str,
    args: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path | str | None = None,
    stdin: _Output = subprocess.DEVNULL,
    stdout: _Output = None,
    stderr: _Output = None,
    start_new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """``python -m <module> *args``, forked when it can be (module docstring): for a test's own
    entry point into the service (``tests.dispatch.worker_entry``: the worker's wiring with a
    recording sender), whose imports are the commands' that the fork server has made.
    ``subprocess.PIPE`` for a stream gives the process's ``stdin``/``stdout``/``stderr`` as
    :class:`subprocess.Popen` does (binary): a test chatting with ``medremind dev``."""
    command = [sys.executable, "-m", module, *args]
    forkable = (
        os.environ.get("MEDREMIND_TEST_NO_FORK") != "1"
        and stdout != subprocess.STDOUT
        and stdin in (subprocess.DEVNULL, subprocess.PIPE)
        and _start_variables(env) == _start_variables(dict(os.environ))
    )
    if not forkable:
        return subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=start_new_session,
        )
    opened: list[int] = []  # the child's ends: closed here once the server has them
    pipes: dict[str, IO[bytes]] = {}

    def child_end(name: str, output: _Output, inherited: int) -> int:
        if output == subprocess.PIPE:
            read, write = os.pipe()
            ours, theirs = (write, read) if name == "stdin" else (read, write)
            pipes[name] = open(ours, "wb" if name == "stdin" else "rb")  # noqa: SIM115 (the caller's)
            opened.append(theirs)
            return theirs
        fd = _output_fd(output, inherited)
        if fd is None:
            fd = os.open(os.devnull, os.O_RDONLY if name == "stdin" else os.O_WRONLY)
            opened.append(fd)
        return fd

    try:
        in_fd = child_end("stdin", stdin, 0)
        out_fd = child_end("stdout", stdout, 1)
        err_fd = out_fd if stderr == subprocess.STDOUT else child_end("stderr", stderr, 2)
        status_r, status_w = os.pipe()
        opened.append(status_w)
        try:
            pid = _fork_server().fork(
                {
                    "module": module,
                    "args": list(args),
                    "env": env,
                    "cwd": str(cwd if cwd is not None else os.getcwd()),
                    "new_session": start_new_session,
                },
                [in_fd, out_fd, err_fd, status_w],
            )
        except BaseException:
            os.close(status_r)
            raise
    except BaseException:
        for stream in pipes.values():
            stream.close()
        raise
    finally:
        for fd in opened:
            os.close(fd)
    return ForkedProcess(command, pid, status_r, pipes)


# ``python -m medremind.cli *args``, forked when it can be: spawn_module's arguments after
# ``module``.
spawn_cli = functools.partial(spawn_module, "medremind.cli")


def run_cli(
    args: Sequence[str],
    *,
    env: dict[str, str],
    timeout: float,
    cwd: Path | str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(..., capture_output=True, text=True)`` of ``medremind *args``, forked
    when it can be (its output through files, read once it has ended)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = spawn_cli(args, env=env, cwd=cwd, stdout=out, stderr=err)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            process.args,
            code,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )
