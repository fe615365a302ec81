"""Headless Chromium driven over the DevTools protocol (CDP), from Python.

Enough of the protocol for page tests: start Debian's chromium with a fresh profile, open one page
at a phone's size, navigate, evaluate JavaScript (awaiting promises), wait for a condition, and
take screenshots. Messages go over one WebSocket (the ``websockets`` package) in flattened-session
mode. The process is killed when the context exits, whatever happened.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import websockets

from tests.chromium_binary import CHROMIUM

# An iPhone 12-class screen in CSS pixels.
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


class BrowserError(AssertionError):
    """The page threw, or a wait timed out (an assertion failure for the test)."""


def available() -> bool:
    """Whether chromium is installed here."""
    return os.access(CHROMIUM, os.X_OK) or shutil.which("chromium") is not None


class Page:
    """One tab, attached with its own CDP session."""

    def __init__(self, ws: Any, session: str) -> None:
        self._ws = ws
        self._session = session
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.console: list[str] = []
        self.errors: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a CDP command to the page and return its result."""
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        message = {"id": call_id, "method": method, "params": params, "sessionId": self._session}
        await self._ws.send(json.dumps(message))
        answer = await asyncio.wait_for(future, timeout=30)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def dispatch(self, message: dict[str, Any]) -> None:
        """Route one message from the browser (a reply or an event) to this page."""
        if "id" in message and message["id"] in self._waiting:
            self._waiting.pop(message["id"]).set_result(message)
        elif message.get("method") == "Runtime.consoleAPICalled":
            args = message["params"].get("args", [])
            self.console.append(" ".join(str(a.get("value", a.get("description"))) for a in args))
        elif message.get("method") == "Runtime.exceptionThrown":
            details = message["params"]["exceptionDetails"]
            self.errors.append(str(details.get("exception", {}).get("description", details)))

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` in the page (promises awaited)."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"page threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str, timeout: float = 20.0) -> Any:
        """Poll ``expression`` until it is truthy; fail naming ``what``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise BrowserError(
                    f"timed out waiting for {what}; console: {self.console[-5:]};"
                    f" errors: {self.errors[-3:]}"
                )
            await asyncio.sleep(0.1)

    async def goto(self, url: str) -> None:
        """Navigate and wait for the document to be ready."""
        await self.call("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'", f"{url} to load")

    async def screenshot(self, path: Path) -> None:
        """A PNG of the viewport."""
        shot = await self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def phone_page() -> AsyncIterator[Page]:
    """Headless Chromium with one page at phone size; everything ends with the context."""
    profile = tempfile.mkdtemp(prefix="medremind-chromium-")
    binary = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium") or CHROMIUM
    process = subprocess.Popen(
        [
            binary,
            "--headless=new",
            "--no-sandbox",  # root in CI; the page is our own app on loopback
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader: asyncio.Task[None] | None = None
    try:
        url = await asyncio.wait_for(asyncio.to_thread(_devtools_url, process), timeout=60)
        async with websockets.connect(url, max_size=64 * 1024 * 1024) as ws:
            pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
            pages: dict[str, Page] = {}

            async def read() -> None:
                async for raw in ws:
                    message = json.loads(raw)
                    session = message.get("sessionId")
                    if session in pages:
                        pages[session].dispatch(message)
                    elif message.get("id") in pending:
                        pending.pop(message["id"]).set_result(message)

            reader = asyncio.create_task(read())

            async def browser_call(call_id: int, method: str, **params: Any) -> dict[str, Any]:
                future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                pending[call_id] = future
                await ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
                answer = await asyncio.wait_for(future, timeout=30)
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer["result"]

            target = await browser_call(1, "Target.createTarget", url="about:blank")
            attached = await browser_call(
                2, "Target.attachToTarget", targetId=target["targetId"], flatten=True
            )
            page = Page(ws, attached["sessionId"])
            pages[attached["sessionId"]] = page
            for method in ("Page.enable", "Runtime.enable"):
                await page.call(method)
            await page.call("Emulation.setDeviceMetricsOverride", **PHONE)
            yield page
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        process.kill()
        process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(process: subprocess.Popen[str]) -> str:
    """The browser's DevTools WebSocket URL, from the line chromium prints at start."""
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"DevTools listening on (ws://\S+)", line)
        if match:
            # Keep reading what chromium logs, or a full pipe would block it.
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return match[1]
    raise BrowserError(f"chromium exited ({process.poll()}) without a DevTools URL")
