"""The fork server behind :mod:`tests.cli_processes`: a Python process that has imported
``medremind``'s commands once and forks a ready ``python -m medremind.cli <args>`` (or another
module's ``-m``) per request.

Run as ``python -c 'from tests.cli_zygote import serve; serve(<fd>)'`` with one end of a Unix
socket pair as ``<fd>``. A request is a JSON object ``{"module", "args", "env", "cwd",
"new_session"}`` (``module``: ``medremind.cli``, or a test's entry point on the same imports such
as ``tests.dispatch.worker_entry``) sent with four file descriptors (the child's stdin, stdout,
stderr, and the write end of a pipe its exit status goes to); the answer is the child's pid as a
JSON line. The child gets a fresh environment, working directory, standard streams, signal
dispositions and ``sys.argv``, and runs the module as ``-m`` would (``runpy``, ``__main__``),
exiting through the interpreter's normal shutdown (atexit handlers, flushed streams). This process
reaps it and writes its exit code (as :attr:`subprocess.Popen.returncode` has it: ``-N`` for
signal N) to the status pipe, then closes it. It exits when the socket closes (its pytest
process ended).

What the fork keeps from here: the imported modules (nothing of them reads the environment on
import: :func:`_preload` checks that the settings were not read), the hash seed, and what the
interpreter read at its start (``PYTHON*`` variables, ``LD_PRELOAD``, faketime's): the client
forks only for an environment equal to this process's in those (tests.cli_processes).
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import runpy
import select
import signal
import socket
import sys
import time

# What `medremind <command>` imports on its way to work, so a child imports (nearly) nothing.
_PRELOAD = (
    "medremind.cli",
    "medremind.commands",
    "medremind.check",
    "medremind.backup",
    "medremind.web_workers",
    "medremind.web_process",
    "medremind.web.app",
    "medremind.worker_process",
    "medremind.dev",
    "core.logs",
)


def _preload() -> None:
    for name in _PRELOAD:
        __import__(name)
    from core.settings import get_settings

    # A child reads its own environment's settings: none may have been read (and cached) here.
    assert get_settings.cache_info().currsize == 0, "the settings were read on import"


def _receive(sock: socket.socket) -> tuple[dict[str, object], list[int]] | None:
    """One request and its descriptors, or None when the client has gone."""
    fds = array.array("i")
    data, ancillary, _flags, _addr = sock.recvmsg(1 << 20, socket.CMSG_LEN(4 * fds.itemsize))
    if not data:
        return None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return json.loads(data), list(fds)


def _run_child(
    request: dict[str, object],
    streams: tuple[int, int, int],
    sock: socket.socket,
    closing: list[int],
) -> None:
    """In the forked child: become ``python -m <module> <args>`` and never return."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sock.close()  # this child's copy: the server's stays open
    if request.get("new_session"):
        os.setsid()
    for target, fd in enumerate(streams):
        os.dup2(fd, target)
    for fd in {*streams, *closing}:
        if fd > 2:
            os.close(fd)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(request["env"])  # type: ignore[call-overload]
    time.tzset()  # TZ as this child's environment says, for the C library's local time
    module = str(request["module"])
    sys.argv = [module, *request["args"]]  # type: ignore[misc]
    # The interpreter's own shutdown ends the child (SystemExit out of serve): atexit handlers
    # run and the streams are flushed, as for a process of its own.
    # As `-m` runs it: the module itself is executed as __main__, not found imported (runpy
    # warns then); what it imports is, which is the point.
    sys.modules.pop(module, None)
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    raise SystemExit(0)


def serve(fd: int) -> None:
    """Fork a ``medremind`` command per request on socket ``fd`` until it closes."""
    _preload()
    sock = socket.socket(fileno=fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    status_pipes: dict[int, int] = {}
    while True:
        try:
            ready, _, _ = select.select([sock.fileno(), wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap(status_pipes)
        if sock.fileno() in ready:
            received = _receive(sock)
            if received is None:
                return
            request, (stdin, out, err, status) = received
            pid = os.fork()
            if pid == 0:
                # Every other child's status pipe too: a pipe reads its end only once all the
                # processes holding its write end have closed it.
                _run_child(
                    request,
                    (stdin, out, err),
                    sock,
                    [wake_r, wake_w, status, *status_pipes.values()],
                )
            for passed in (stdin, out, err):
                os.close(passed)
            status_pipes[pid] = status
            sock.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            _reap(status_pipes)


def _reap(status_pipes: dict[int, int]) -> None:
    """Write each ended child's exit code to its status pipe and close it."""
    while status_pipes:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        pipe = status_pipes.pop(pid, None)
        if pipe is not None:
            # An OSError: the client closed its end, nobody is waiting.
            with contextlib.suppress(OSError):
                os.write(pipe, str(os.waitstatus_to_exitcode(status)).encode())
            os.close(pipe)
