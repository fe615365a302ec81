"""The browser tests' shared Chromium (tests.dashboard.browser_server): scripts connect to it
rather than start their own, each in contexts of its own; a browser that has gone is replaced for
the next test, and an idle one is stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

import pytest

from tests.dashboard import browser_server
from tests.dashboard.test_dashboard_e2e import (
    CHROMIUM,
    DASHBOARD,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.process_env import service_env
from tests.waiting import eventually

# A script that signs nothing in: it records a cookie in a new context of the browser
# e2e/chromium.mjs gives it, and prints the cookies that context had before.
SCRIPT = """
import { launch } from "./e2e/chromium.mjs";
const browser = await launch();
const context = await browser.newContext();
const before = await context.cookies("http://127.0.0.1:9/");
await context.addCookies([{ name: "seen", value: "1", url: "http://127.0.0.1:9/" }]);
console.log(JSON.stringify(before));
if (process.env.LEAVE_OPEN) process.exit(0);  // as a failing script ends: nothing closed
await browser.close();
"""


def _script(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # CHROMIUM_PATH names no program: a script that launched a browser of its own would fail.
    env = service_env(CHROMIUM_PATH="/nonexistent/chromium") | extra
    return subprocess.run(
        ["node", "--input-type=module", "-e", SCRIPT],
        cwd=DASHBOARD,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_scripts_share_one_browser_and_none_sees_anothers_cookies() -> None:
    shared = {"BROWSER_WS_ENDPOINT": browser_server.endpoint(CHROMIUM)}
    first = _script(shared | {"LEAVE_OPEN": "1"})
    second = _script(shared)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "[]"
    assert browser_server.endpoint(CHROMIUM) == shared["BROWSER_WS_ENDPOINT"]


async def test_a_browser_that_has_gone_is_replaced() -> None:
    gone = browser_server.endpoint(CHROMIUM)
    pid = browser_server.server_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # as a crash or the OOM killer would
    await eventually(lambda: browser_server.server_pid() is None, timeout=10)
    again = browser_server.endpoint(CHROMIUM)
    assert again != gone
    run = _script({"BROWSER_WS_ENDPOINT": again})
    assert run.returncode == 0, run.stderr


async def test_an_idle_browser_is_stopped_and_one_taken_again_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(browser_server, "IDLE_SECONDS", 1.0)
    with browser_server.browser_env(CHROMIUM) as first:
        assert _script(first).returncode == 0
    # Taken again within the idle time: the same browser, not stopped under the script.
    with browser_server.browser_env(CHROMIUM) as second:
        await asyncio.sleep(1.5)
        assert second == first
        assert browser_server.server_pid() is not None
    await eventually(lambda: browser_server.server_pid() is None, timeout=10)
    with browser_server.browser_env(CHROMIUM) as third:
        assert third["BROWSER_WS_ENDPOINT"] != first["BROWSER_WS_ENDPOINT"]
