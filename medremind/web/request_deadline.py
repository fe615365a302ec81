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

It also bounds a request's head (request line and headers) at :data:`MAX_HEAD_BYTES`: uvicorn
and httptools take any number of headers of any size, and 40 MB of short headers, sent in the
deadline's 30 s, grew the web process by 250 MB (a Python tuple per header) and were answered
200. A longer head is answered 431 and the connection closed, before the app sees it. A request
target (path and query string) longer than :data:`MAX_URL_BYTES` is answered 414 the same way:
uvicorn's URL parser cannot read one, and it answered a plain-text 400 "Invalid HTTP request
received." that named nothing.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import Settings
from medremind.web.errors import error_body
from medremind.web.patient_app.live import MAX_FRAME_BYTES as LIVE_MAX_FRAME

logger = logging.getLogger(__name__)

# The most a request's line and headers may hold, in bytes: eight times what browsers, Telegram,
# Twilio and API clients send (a browser's cookies are at most a few KB), and what proxies such
# as nginx take by default. Checked as data arrives: a head may pass it by one read (at most
# 256 KB, asyncio's) before it is refused.
MAX_HEAD_BYTES = 64 * 1024
# The longest request target httptools.parse_url reads (http_parser keeps its offsets in 16
# bits); uvicorn calls it for every request. No route takes a query of more than a few KB.
MAX_URL_BYTES = 65_535
_LINGER_SECONDS = 1.0
_HEAD_TOO_LARGE = json.dumps(
    error_body(
        431,
        f"request line and headers larger than {MAX_HEAD_BYTES} bytes, the most this service"
        " takes: send fewer or shorter headers",
    )
).encode()
_URL_TOO_LONG = json.dumps(
    error_body(
        414,
        f"request target (path and query string) longer than {MAX_URL_BYTES} bytes, the most"
        " this service reads: send shorter query parameters (none of the API's takes more than"
        " a few hundred characters)",
    )
).encode()


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol closing a connection whose request is not read in time."""

    def __init__(self, *args: Any, read_seconds: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_seconds = read_seconds
        self._deadline: asyncio.TimerHandle | None = None
        # Bytes received while a request's head is being read; None once its headers are in.
        self._head_bytes: int | None = 0
        # The request target was too long for uvicorn's URL parser: its 400 is answered as 414.
        self._url_too_long = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # the first request must come, whole, in time

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_too_large()
                return
            # Counted before the parser reads it: its headers' end sets None (the body's bytes
            # in the same read do not count towards the next request).
            self._head_bytes += len(data)
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm()

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        # uvicorn parses the URL here; one it cannot read raises, and uvicorn answers with
        # send_400_response (below) from the data_received that fed the parser.
        self._url_too_long = len(self.url) > MAX_URL_BYTES
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self._url_too_long:
            self._url_too_long = False
            self._refuse(
                b"414 URI Too Long",
                _URL_TOO_LONG,
                "refused a request whose target is too long",
                MAX_URL_BYTES,
            )
            return
        super().send_400_response(msg)

    def on_message_complete(self) -> None:
        self._disarm()
        self._head_bytes = 0  # the next request on a kept-alive connection
        super().on_message_complete()

    def _head_too_large(self) -> None:
        self._head_bytes = None
        self._refuse(
            b"431 Request Header Fields Too Large",
            _HEAD_TOO_LARGE,
            "refused a request whose headers are too large",
            MAX_HEAD_BYTES,
        )

    def _refuse(self, status: bytes, body: bytes, message: str, limit: int) -> None:
        """Answer ``status`` with the JSON ``body`` and close the connection (``message`` and
        the ``limit`` passed are logged)."""
        self._disarm()
        if self.transport.is_closing():
            return
        logger.warning(message, extra={"bytes": limit})
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        # Read no more, and close a moment later rather than at once: closing with the client's
        # data unread resets the connection, and the client lost the answer saying why.
        self.transport.pause_reading()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)

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
