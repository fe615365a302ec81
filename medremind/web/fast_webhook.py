"""A lean ASGI path for ``POST /telegram/webhook`` (and ``/telegram/webhook/<bot id>``, the other
bots'), in front of the Starlette app.

Every button press a patient makes is one webhook call, so this route carries most of the web
process's requests. Through Starlette it passes ``ServerErrorMiddleware``,
:class:`~medremind.web.middleware.RequestContextMiddleware` (two ``send`` wrappers), the
``ExceptionMiddleware`` and the router, and builds a ``Request`` with its ``Headers``: measured at
about a quarter of the web process's CPU per button answer. :class:`TelegramWebhookFastPath`
answers exactly that method and path itself and hands everything else (other routes, other
methods, a trailing slash, a mounted root path, lifespan) to the app unchanged.

It keeps what the middleware and the route do: the request id (incoming ``X-Request-ID`` if it
looks like one, else a new one) in ``core.logs.request_id_var`` and the response headers, the same
access log line and HTTP metric labels (route ``/telegram/webhook``), 499 on a client that goes
away, a JSON 500 for an unexpected error; and the answer itself comes from
:func:`medremind.web.telegram_webhook.answer_update`, the route's own code (constant-time secret
check before the body is read, the streaming size cap of
:mod:`medremind.web.body_limit`, JSON errors, the update stored before the 200, the
processing run after the response body has been sent).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from core.logs import request_id_var
from medremind.web.body_limit import read_body
from medremind.web.errors import error_response
from medremind.web.middleware import (
    _REQUEST_ID,
    error_logger,
    logged_path,
    record_request,
    route_words,
)
from medremind.web.state import WebState
from medremind.web.telegram_webhook import (
    MAX_BODY_BYTES,
    SECRET_HEADER,
    answer_bot_update,
    answer_update,
)

PATH = "/telegram/webhook"
# The other bots' webhooks (platforms/telegram_bots.py): PATH/<bot id>, labelled as one route.
BOT_PREFIX = PATH + "/"
BOT_ROUTE = PATH + "/{bot}"
_METHOD = "POST"
_PATH_WORDS = route_words((PATH, BOT_ROUTE))
_SECRET = SECRET_HEADER.encode("ascii")


class TelegramWebhookFastPath:
    """Answers ``POST /telegram/webhook`` itself; passes everything else to ``app``."""

    def __init__(self, app: ASGIApp, state: WebState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != _METHOD
            # Under a root path Starlette matches on the path less the prefix: leave it to it.
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == PATH:
            await self._webhook(scope, receive, send)
        elif path.startswith(BOT_PREFIX) and _bot_id(path[len(BOT_PREFIX) :]):
            await self._webhook(scope, receive, send, path[len(BOT_PREFIX) :])
        else:
            await self.app(scope, receive, send)

    async def _webhook(
        self, scope: Scope, receive: Receive, send: Send, bot: str | None = None
    ) -> None:
        incoming_id = secret = content_length = None
        # The first of each header, as Starlette's ``Headers.get`` and the middleware take it.
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                if incoming_id is None:
                    incoming_id = value.decode("latin-1")
            elif name == _SECRET:
                if secret is None:
                    secret = value.decode("latin-1")
            elif name == b"content-length" and content_length is None:
                content_length = value.decode("latin-1")
        request_id = (
            incoming_id if incoming_id is not None and _REQUEST_ID.match(incoming_id) else None
        ) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        id_header = (b"x-request-id", request_id.encode("ascii"))
        started = time.perf_counter()
        status = 500
        finished: float | None = None
        started_response = False

        def read_capped() -> Awaitable[bytes]:
            return read_body(receive, MAX_BODY_BYTES)

        try:
            try:
                if bot is None:
                    response = await answer_update(self.state, secret, content_length, read_capped)
                else:
                    response = await answer_bot_update(
                        self.state, bot, secret, content_length, read_capped
                    )
                status = response.status_code
                started_response = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [*response.raw_headers, id_header],
                    }
                )
                await send({"type": "http.response.body", "body": response.body})
                # The client has its answer; the processing hand-off after it is not its latency.
                finished = time.perf_counter()
                if response.background is not None:
                    await response.background()
            except ClientDisconnect:
                status = 499
            except Exception:
                error_logger.exception("unhandled error")
                if started_response:
                    raise
                status = 500
                failure = error_response(
                    500, "internal error; the X-Request-ID header identifies it in our logs"
                )
                started_response = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [*failure.raw_headers, id_header],
                    }
                )
                await send({"type": "http.response.body", "body": failure.body})
                finished = time.perf_counter()
        finally:
            elapsed = (finished or time.perf_counter()) - started
            route = PATH if bot is None else BOT_ROUTE
            record_request(_METHOD, logged_path(scope["path"], _PATH_WORDS), route, status, elapsed)
            request_id_var.reset(token)


def _bot_id(text: str) -> bool:
    """Whether ``text`` is a bot id (digits, as Telegram's are), so the lean path takes it."""
    return 0 < len(text) <= 20 and text.isdigit()
