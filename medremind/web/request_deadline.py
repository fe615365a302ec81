"""A deadline on reading each request, headers and body, so a slow client cannot hold a
connection for ever.

uvicorn times out only an idle kept-alive connection between requests: a client that opens a
connection and sends its headers, or its body, one byte now and then (slowloris) keeps the
connection, its socket and its request task for as long as it likes, and enough of them exhaust
the process's file descriptors. Nothing in the app can stop it: the headers never reach the app,
and a route reading a body (a Twilio webhook must read it to check the signature) waits for it.

:class:`DeadlineProtocol` is uvicorn's httptools protocol with one timer per connection: armed
when the connection opens and when a request's first byte arrives, cleared when the request has
arrived whole; when it fires first the connection is closed (the app, if it was reading the
body, sees a disconnect). The deadline counts from the first byte, so trickling cannot extend
it. What happens after the request has arrived (the app's work, the response) is not limited
here. :func:`server_config` gives it to every process that serves the web app.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import Settings
from medremind.web.patient_app.live import MAX_FRAME_BYTES as LIVE_MAX_FRAME

logger = logging.getLogger(__name__)


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol closing a connection whose request is not read in time."""

    def __init__(self, *args: Any, read_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_seconds = read_seconds
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # the first request must come, whole, in time

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # The connection is the websocket protocol's from here (the patient app's live socket,
        # which its own pings keep): this protocol's timer must not close it.
        self._disarm()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self._read_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            logger.warning(
                "closing a connection whose request did not arrive in time",
                extra={"seconds": self._read_seconds},
            )
            self.transport.close()


def deadline_protocol(read_seconds: float) -> Any:
    """The protocol class to give ``uvicorn.Config(http=...)``."""
    return functools.partial(DeadlineProtocol, read_seconds=read_seconds)


def server_config(app: Any, settings: Settings, *, host: str) -> uvicorn.Config:
    """The uvicorn configuration of every process that serves the web app (``medremind web``,
    each of its ``WEB_CONCURRENCY`` workers, and ``medremind dev``), so they cannot drift:
    ``medremind dev`` had no request deadline, and a slow client held its connections."""
    return uvicorn.Config(
        app,
        host=host,
        port=settings.port,
        log_config=None,  # core.logs owns logging (JSON, redacted)
        access_log=False,  # our middleware logs requests without query strings
        server_header=False,
        # A slow client may not hold a connection for ever (slowloris).
        http=deadline_protocol(settings.request_read_seconds),
        lifespan="on",
        # The patient app's sockets only ever send small acknowledgements.
        ws_max_size=LIVE_MAX_FRAME,
        # Half the grace for open requests, half for processing after them (see create_app).
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds / 2)),
    )
