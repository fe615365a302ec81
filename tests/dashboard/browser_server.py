"""One headless Chromium per pytest process, shared by the browser scripts its tests run.

Each dashboard e2e test runs a node script (``dashboard/e2e/*.e2e.mjs``) that used to launch a
Chromium of its own: about 1.5 s of CPU a test on the 2-core CI host, half of what the script
costs. Here the first test of a pytest(-xdist worker) process that needs a browser starts
``dashboard/e2e/browser-server.mjs`` (Playwright's browser server on a loopback port, its path a
random id), and every script of the process connects to it through ``BROWSER_WS_ENDPOINT``
(``dashboard/e2e/chromium.mjs``). A script's browser contexts (cookies, storage, cache) are its
own and are closed when it disconnects, however it ends, so no test sees another's state; tests
of one process run one at a time, so scripts never share the browser at once.

If the browser has gone (it crashed, or a test killed it), the next test starts another. The
server is stopped at the end of the session (tests/conftest.py ``pytest_sessionfinish``). Its CPU
is counted in the process's children once it has ended, not in any one test's
(tests/timeline.py).
"""

from __future__ import annotations

import selectors
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
START_TIMEOUT_SECONDS = 60.0

_server: subprocess.Popen[str] | None = None
_endpoint = ""
_log: IO[bytes] | None = None


def _read_endpoint(server: subprocess.Popen[str], log_path: str) -> str:
    """The server's first line of output, its endpoint; fails saying why when none comes."""
    assert server.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        if selector.select(timeout=START_TIMEOUT_SECONDS):
            line = server.stdout.readline().strip()
            if line.startswith("ws://"):
                return line
    server.kill()
    server.wait()
    log = Path(log_path).read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the shared Chromium (e2e/browser-server.mjs) did not start:\n{log}")


def endpoint(chromium: str) -> str:
    """The WebSocket endpoint of this process's Chromium (``chromium`` the executable), started
    now when none runs."""
    global _server, _endpoint, _log
    if _server is not None and _server.poll() is None:
        return _endpoint
    stop()
    _log = tempfile.NamedTemporaryFile(prefix="medremind-browser-server-", suffix=".log")  # noqa: SIM115 (closed by stop)
    env = service_env(CHROMIUM_PATH=chromium)
    env.pop("DATABASE_URL", None)
    _server = subprocess.Popen(
        ["node", "e2e/browser-server.mjs"],
        cwd=DASHBOARD,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=_log,
        text=True,
    )
    _endpoint = _read_endpoint(_server, _log.name)
    return _endpoint


def browser_env(chromium: str) -> dict[str, str]:
    """A browser script's ``CHROMIUM_PATH`` and ``BROWSER_WS_ENDPOINT`` (the shared browser)."""
    return {"CHROMIUM_PATH": chromium, "BROWSER_WS_ENDPOINT": endpoint(chromium)}


def server_pid() -> int | None:
    """The process id of the running browser server, or None."""
    return _server.pid if _server is not None and _server.poll() is None else None


def stop() -> None:
    """Stop the shared browser, if one runs: its standard input closed, killed after 10 s."""
    global _server, _log
    server, _server = _server, None
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
    if _log is not None:
        _log.close()
        _log = None
