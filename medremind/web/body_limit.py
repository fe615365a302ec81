"""One streaming size cap on every request body, per route, before any handler or signature check.

Each path has a limit (:func:`limit_for`: provider webhooks small, the API larger, everything else
smaller still). :class:`BodyLimitMiddleware` wraps the ASGI ``receive`` of every request so that
whoever reads the body (``Request.body()``, a form parser, a stream) gets :class:`BodyTooLarge`
as soon as the bytes received pass the limit, with or without ``Content-Length`` (chunked): the
rest is never read, so a client cannot make the process hold more than the limit plus one chunk.
A declared ``Content-Length`` over the limit is refused before the handler runs at all.

:class:`BodyTooLarge` is an :class:`~medremind.web.errors.ApiError` (413), so a handler's reading
of the body ends in the app's usual JSON error answer; the answer carries ``Connection: close``
so the server drops the connection instead of draining the remaining upload.
The Telegram webhook's lean path (:mod:`medremind.web.fast_webhook`) reads through
:func:`read_body` with the same limit.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medremind.web.errors import ApiError, error_response

# Telegram updates are a few kilobytes (a long message with entities stays far below this).
TELEGRAM_MAX_BYTES = 256_000
# Twilio forms are a few kilobytes.
TWILIO_MAX_BYTES = 64_000
# API bodies are small JSON documents; a FHIR resource is the largest we take.
API_MAX_BYTES = 256_000
# Routes that take no body (health, metrics) and paths that are no route.
DEFAULT_MAX_BYTES = 16_000

_PREFIX_LIMITS: tuple[tuple[str, int], ...] = (
    ("/telegram/", TELEGRAM_MAX_BYTES),
    ("/twilio/", TWILIO_MAX_BYTES),
    ("/api/", API_MAX_BYTES),
)
# Tells the server not to drain the rest of an upload it will not read.
CLOSE_HEADERS = {"connection": "close"}


def limit_for(path: str) -> int:
    """The most bytes a request to ``path`` may send."""
    for prefix, limit in _PREFIX_LIMITS:
        if path.startswith(prefix):
            return limit
    return DEFAULT_MAX_BYTES


class BodyTooLarge(ApiError):
    """413: the body is larger than the route takes."""

    def __init__(self, limit: int):
        super().__init__(
            413,
            f"request body larger than {limit} bytes, the most this route takes",
            headers=CLOSE_HEADERS,
        )
        self.limit = limit


def declared_too_large(content_length: str | None, limit: int) -> bool:
    """Whether a ``Content-Length`` header value already says the body is over ``limit``."""
    return content_length is not None and content_length.isdigit() and int(content_length) > limit


def capped_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`BodyTooLarge` once more than ``limit`` body bytes came."""
    received = 0

    async def capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return capped


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes (else :class:`BodyTooLarge`); a disconnect raises
    ``ClientDisconnect``, as Starlette's ``Request.body`` does."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


def too_large_response(limit: int) -> JSONResponse:
    """The 413 answer, closing the connection."""
    error = BodyTooLarge(limit)
    return error_response(413, error.reason, headers=error.headers)


class BodyLimitMiddleware:
    """Caps every HTTP request's body at :func:`limit_for` its path (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        unread = False  # whether the client may still be sending a body nobody has read
        for name, value in scope["headers"]:
            if name == b"content-length":
                if declared_too_large(value.decode("latin-1"), limit):
                    await too_large_response(limit)(scope, receive, send)
                    return
                unread = value != b"0"
            elif name == b"transfer-encoding":
                unread = True
        capped = capped_receive(receive, limit)

        async def receive_tracked() -> Message:
            nonlocal unread
            message = await capped()
            if message["type"] != "http.request" or not message.get("more_body", False):
                unread = False
            return message

        async def send_closing(message: Message) -> None:
            # Answered before the body was read (a 401, a 403, a 413): close the connection
            # after the answer rather than let the server drain an upload of any size.
            if message["type"] == "http.response.start" and unread:
                headers = list(message.get("headers", ()))
                if not any(name == b"connection" for name, _ in headers):
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive_tracked, send_closing)
