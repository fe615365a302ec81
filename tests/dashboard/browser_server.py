"""One headless Chromium per pytest process, shared by the browser scripts its tests run.

Each dashboard e2e test runs a node script (``dashboard/e2e/*.e2e.mjs``) that used to launch a
Chromium of its own. Connecting to a running one instead saved ~0.27 CPU-s a script on the 2-core
host under load (2.07 against 2.34 CPU-s, browser included: 3 interleaved rounds of 8 scripts
opening two contexts each). Here the first test of a pytest(-xdist worker) process that needs a
browser starts ``dashboard/e2e/browser-server.mjs`` (Playwright's browser server on a loopback
port, its path a random id), and every script of the process connects to it through
``BROWSER_WS_ENDPOINT`` (``dashboard/e2e/chromium.mjs``). A script's browser contexts (cookies,
storage, cache) are its own and are closed when it disconnects, however it ends, so no test sees
another's state; tests of one process run one at a time, so scripts never share the browser at
once.

If the browser has gone (it crashed, or a test killed it), the next test starts another. It is
stopped once no script has used it for ``IDLE_SECONDS``, and at the end of the session
(tests/conftest.py ``pytest_sessionfinish``). Its CPU is counted in the process's children once
it has ended (tests/timeline.py: in the test running then, or the session's end line).
"""

from __future__ import annotations

import selectors
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
START_TIMEOUT_SECONDS = 60.0
# An idle Chromium's timers cost ~0.1 CPU-s every 30 s; starting one again ~1.2 CPU-s (node,
# playwright-core, the browser). Kept that long idle, a browser costs at most twice what the best
# choice made knowing the next test would have: the browser tests mostly run first
# (tests/slow_tests.txt), with other long tests between them.
IDLE_SECONDS = 300.0


class _SharedBrowser:
    """The browser server of this process, if one runs; every method holds one lock, so that
    the idle timer's stop and a test's start never interleave."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server: subprocess.Popen[str] | None = None
        self.endpoint = ""
        self.log: IO[bytes] | None = None
        self.idle: threading.Timer | None = None

    def running(self) -> bool:
        return self.server is not None and self.server.poll() is None

    def start(self, chromium: str) -> None:
        self.stop()
        self.log = tempfile.NamedTemporaryFile(prefix="medremind-browser-server-", suffix=".log")  # noqa: SIM115 (closed by stop)
        env = service_env(CHROMIUM_PATH=chromium)
        env.pop("DATABASE_URL", None)
        self.server = subprocess.Popen(
            ["node", "e2e/browser-server.mjs"],
            cwd=DASHBOARD,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.endpoint = self._read_endpoint(self.server)

    def _read_endpoint(self, server: subprocess.Popen[str]) -> str:
        """The server's first line of output, its endpoint; fails saying why when none comes."""
        assert server.stdout is not None and self.log is not None
        with selectors.DefaultSelector() as selector:
            selector.register(server.stdout, selectors.EVENT_READ)
            if selector.select(timeout=START_TIMEOUT_SECONDS):
                line = server.stdout.readline().strip()
                if line.startswith("ws://"):
                    return line
        log = Path(self.log.name).read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"the shared Chromium (e2e/browser-server.mjs) did not start:\n{log}")

    def cancel_idle(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
            self.idle = None

    def stop_when_idle(self) -> None:
        self.cancel_idle()
        timer = threading.Timer(IDLE_SECONDS, self._idle_expired)
        timer.daemon = True
        self.idle = timer
        timer.start()

    def _idle_expired(self) -> None:
        with self.lock:
            # A test that took the browser since cancelled this timer (or set another).
            if self.idle is threading.current_thread():
                self.idle = None
                self.stop()

    def stop(self) -> None:
        """Stop the server, if one runs: its standard input closed, killed after 10 s."""
        self.cancel_idle()
        server, self.server = self.server, None
        if server is not None:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if server.stdout is not None:
                server.stdout.close()
        if self.log is not None:
            self.log.close()
            self.log = None


_shared = _SharedBrowser()


def endpoint(chromium: str) -> str:
    """The WebSocket endpoint of this process's Chromium (``chromium`` the executable), started
    now when none runs. Not stopped for idleness until a :func:`browser_env` ends."""
    with _shared.lock:
        _shared.cancel_idle()
        if not _shared.running():
            _shared.start(chromium)
        return _shared.endpoint


@contextmanager
def browser_env(chromium: str) -> Iterator[dict[str, str]]:
    """A browser script's ``CHROMIUM_PATH`` and ``BROWSER_WS_ENDPOINT`` (the shared browser),
    for the time the script runs; the browser is stopped ``IDLE_SECONDS`` after, unless another
    script takes it."""
    try:
        yield {"CHROMIUM_PATH": chromium, "BROWSER_WS_ENDPOINT": endpoint(chromium)}
    finally:
        with _shared.lock:
            if _shared.running():
                _shared.stop_when_idle()


def server_pid() -> int | None:
    """The process id of the running browser server, or None."""
    with _shared.lock:
        return _shared.server.pid if _shared.server is not None and _shared.running() else None


def stop() -> None:
    """Stop the shared browser, if one runs."""
    with _shared.lock:
        _shared.stop()
