"""Request context middleware: a request id, a JSON access log line and the HTTP metrics.

Pure ASGI (not ``BaseHTTPMiddleware``) so background tasks and streaming are untouched. The
access log carries method, path without the query string, route template, status and duration:
never the query, headers or body, which may hold phone numbers, message texts or keys. The path
is the client's text too: of its segments, the words of our own routes, ids and numbers are
logged, and anything else as ``[redacted]`` (:func:`logged_path`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import request_id_var
from medremind.web.errors import error_response
from medremind.web.metrics import http_series

access_logger = logging.getLogger("medremind.web.access")
error_logger = logging.getLogger("medremind.web.errors")

# An incoming X-Request-ID (from Heroku's router or a proxy) is kept only if it looks like an id,
# so a client cannot smuggle text into our logs through it.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
# Paths that are not routes are counted under one label to bound the metric's cardinality.
_UNMATCHED = "(unmatched)"
# A path segment logged as it came: an id (a UUID) or a number (a bot's id; a number long
# enough to be a phone number is redacted by core.logs all the same).
_ID_SEGMENT = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|\d{1,20}")
_REDACTED_SEGMENT = "[redacted]"


def route_words(templates: Iterable[str]) -> frozenset[str]:
    """The literal segments of route templates (``/api/v1/patients/{patient_id}``: ``api``,
    ``v1``, ``patients``): the words :func:`logged_path` logs."""
    return frozenset(
        part
        for template in templates
        for part in template.split("/")
        if part and not part.startswith("{")
    )


def logged_path(path: str, words: frozenset[str]) -> str:
    """``path`` as the access log writes it: a segment that is a word of our routes, an id or a
    number as it came, any other as ``[redacted]``. A path is the client's text: a template's
    name (``PUT /api/v1/templates/{name}``) or a wrong URL (``/api/v1/patients/by-name/Ana
    Garcia``) put the names it held into every log line of the request."""
    return "/".join(
        part if not part or part in words or _ID_SEGMENT.fullmatch(part) else _REDACTED_SEGMENT
        for part in path.split("/")
    )


class RequestContextMiddleware:
    """Sets ``core.logs.request_id_var``, echoes ``X-Request-ID``, logs and counts each request.

    ``route_of`` maps the matched endpoint (``scope["endpoint"]``) to its path template, so metric
    labels say ``/api/v1/messages/{message_id}`` rather than one series per message.
    ``path_words``: the segments logged as they came (:func:`logged_path`).
    """

    def __init__(
        self,
        app: ASGIApp,
        route_of: Callable[[object], str | None],
        path_words: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.route_of = route_of
        self.path_words = path_words

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope.get("headers", ())) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        finished: float | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                # The client has its answer; background work after this is not its latency.
                finished = time.perf_counter()

        started_response = False

        async def send_tracked(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
            await send_with_id(message)

        try:
            try:
                await self.app(scope, receive, send_tracked)
            except ClientDisconnect:
                # The client went away mid-request: nothing to answer, nothing went wrong here.
                status = 499
            except Exception:
                # Answer JSON with the request id here, inside the request's log context, rather
                # than let the server's plain-text 500 page out.
                error_logger.exception("unhandled error")
                if started_response:
                    raise
                status = 500
                await error_response(
                    500, "internal error; the X-Request-ID header identifies it in our logs"
                )(scope, receive, send_with_id)
        finally:
            elapsed = (finished or time.perf_counter()) - started
            route = self.route_of(scope.get("endpoint")) or _UNMATCHED
            path = logged_path(scope.get("path", ""), self.path_words)
            record_request(scope.get("method", ""), path, route, status, elapsed)
            request_id_var.reset(token)


def record_request(method: str, path: str, route: str, status: int, elapsed: float) -> None:
    """Count a finished request in the HTTP metrics and write its access log line."""
    requests, duration = http_series(method, route, status)
    requests.inc()
    duration.observe(elapsed)
    if access_logger.isEnabledFor(logging.INFO):
        access_logger.info(
            "request",
            extra={
                "method": method,
                "path": path,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )


def _incoming_request_id(headers: Mapping | list | tuple) -> str | None:
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None
