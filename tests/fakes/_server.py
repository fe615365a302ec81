"""Serve an ASGI app with uvicorn on 127.0.0.1 (a free port) in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import email.utils
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

import uvicorn

# How long a stopping fake lets the requests in its handlers finish before it cancels them.
SHUTDOWN_GRACE_SECONDS = 2.0


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopped without its waits.

    uvicorn looks at ``should_exit`` every 0.1 s, then sleeps 0.1 s after asking its connections
    to close and looks again every 0.1 s: ~0.15-0.2 s per stop, and most data tests stop two
    fakes one after the other (0.3-0.4 s of each one's teardown). Here :meth:`wake`
    ends the main loop at once and the shutdown looks every 5 ms; what it waits for is uvicorn's
    own (its connections closed, their tasks done), for :data:`SHUTDOWN_GRACE_SECONDS` at most:
    a request held in a handler kept the stop waiting until :meth:`LoopbackServer.stop` gave up
    joining after 10 s. The fakes serve no lifespan events.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), 0.1)  # uvicorn's tick, cut short

    def wake(self) -> None:
        """Exit: from any thread, the main loop sees it at once (started or not)."""
        self.should_exit = True
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to wake
                loop.call_soon_threadsafe(woken.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        deadline = asyncio.get_running_loop().time() + SHUTDOWN_GRACE_SECONDS
        while self.server_state.connections or self.server_state.tasks:
            if asyncio.get_running_loop().time() > deadline:
                # A request still in a handler (a test's ``latency = 30``, answered to a process
                # that is gone): cancelled, as uvicorn does past timeout_graceful_shutdown.
                for task in self.server_state.tasks:
                    task.cancel()
                return
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()


class LoopbackServer:
    """Start/stop are idempotent; usable as a sync or async context manager."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._server: _PromptServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        if not self.port:
            raise RuntimeError("server not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Bind a free port and serve until :meth:`stop`; returns once the server accepts."""
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
        )
        server = _PromptServer(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="loopback-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("loopback server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and join the thread; safe to call twice."""
        if self._server is None:
            return
        self._server.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode a JSON, urlencoded or multipart body into ``(fields, files)``.

    Multi-valued form fields become lists. Files are ``{"filename", "content_type", "data"}``.
    """
    import json

    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}, {}
    if kind == "application/json":
        return dict(json.loads(body)), {}
    if kind == "application/x-www-form-urlencoded":
        fields: dict[str, Any] = {}
        for key, value in parse_qsl(body.decode(), keep_blank_values=True):
            if key in fields:
                previous = fields[key]
                listed = previous if isinstance(previous, list) else [previous]
                fields[key] = [*listed, value]
            else:
                fields[key] = value
        return fields, {}
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        fields, files = {}, {}
        for part in parsed.iter_parts():
            param = part.get_param("name", header="content-disposition")
            if param is None:  # a part without a field name has nothing to be filed under
                continue
            name = email.utils.collapse_rfc2231_value(param)  # RFC 2231 parameters come as tuples
            filename = part.get_filename()
            payload = part.get_payload(decode=True)  # bytes, or None for a nested multipart
            data = payload if isinstance(payload, bytes) else b""
            if filename:
                files[name] = {
                    "filename": filename,
                    "content_type": part.get_content_type(),
                    "data": data,
                }
            else:
                fields[name] = data.decode()
        return fields, files
    return {}, {}
