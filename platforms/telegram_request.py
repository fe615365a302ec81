"""python-telegram-bot's networking port (``BaseRequest``) on aiohttp.

``BaseRequest`` is PTB's documented extension point for networking backends: ``Bot`` builds the
request, calls :meth:`AiohttpRequest.do_request` for ``(status, body)``, and turns every answer
into its own error hierarchy in one place (``BaseRequest.post``). Requests go through one
:class:`platforms.http_session.HttpSession` (one aiohttp ``ClientSession``, a pool of
``connection_pool_size`` connections) in the wire format of PTB's ``HTTPXRequest``: parameters
urlencoded with non-string values JSON-encoded, uploads (``send_photo``, ``send_document``) as
multipart/form-data.

:meth:`AiohttpRequest.post_json` and :meth:`AiohttpRequest.post_form` are the hot path for
:class:`platforms.telegram.TelegramSender`: ready parameters in, the ``result`` out, no PTB
objects. A non-2xx answer is handed to PTB's own ``BaseRequest.post`` (through :class:`_Replay`),
so it raises exactly the exception PTB would (``RetryAfter``, ``ChatMigrated``, ``Forbidden``,
``BadRequest``, ``InvalidToken``, ``NetworkError``...), and
:func:`platforms.telegram.classify_telegram_error` stays the one table.

Client failures map onto PTB's: every timeout is ``TimedOut`` (one while waiting for or making a
connection says nothing was sent), every other failure ``NetworkError``; both are transient in our
table. Messages never quote the URL, which holds the bot token.

The proxy environment (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``, ``NO_PROXY``) is honoured as
PTB's httpx backend honours it; see :mod:`platforms.http_session`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue  # what HTTPXRequest checks, too
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from platforms.http_session import HttpSession, Timeouts

_FORM = "application/x-www-form-urlencoded"
# One encoder: json.dumps with any option builds a new JSONEncoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_JSON = "application/json"
_TOKEN_IN_URL = re.compile(r"/bot[^/\s]+")
_NOT_SENT_MESSAGE = (
    "Timed out waiting for or making a connection: the request was *not* sent to Telegram. "
    "Consider a larger connection pool or a longer pool timeout."
)


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` over aiohttp; see the module docstring.

    Timeouts are PTB's four (seconds, ``None`` waits forever); ``connection_pool_size`` bounds
    the connections to the Bot API server (requests beyond it wait up to ``pool_timeout``).
    """

    __slots__ = ("_http", "_media_write_timeout")

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        timeouts = Timeouts(
            connect=connect_timeout, read=read_timeout, write=write_timeout, pool=pool_timeout
        )
        self._http = HttpSession(
            pool_size=connection_pool_size, timeouts=timeouts, user_agent=self.USER_AGENT
        )
        self._media_write_timeout = media_write_timeout

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB reads it to extend long-polling timeouts)."""
        return self._http.timeouts.read

    async def initialize(self) -> None:
        """Nothing to open up front: the session opens on first use (again after shutdown)."""
        return None

    async def shutdown(self) -> None:
        """Close every connection; safe to call twice."""
        await self._http.aclose()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See ``BaseRequest.do_request``: the answer's status and body, whatever the status."""
        defaults = self._http.timeouts
        uploading = request_data is not None and request_data.contains_files
        timeouts = Timeouts(
            connect=_chosen(connect_timeout, defaults.connect),
            read=_chosen(read_timeout, defaults.read),
            write=_chosen(
                write_timeout, self._media_write_timeout if uploading else defaults.write
            ),
            pool=_chosen(pool_timeout, defaults.pool),
        )
        data: bytes | aiohttp.FormData = b""
        headers = None
        if request_data is not None and uploading:
            data = _multipart(request_data)
        elif request_data is not None:
            data = request_data.url_encoded_parameters().encode("ascii")
            headers = {"Content-Type": _FORM}
        return await self._exchange(method, url, data, headers, timeouts)

    async def post_json(self, url: str, payload: dict[str, Any]) -> Any:
        """POST ``payload`` as a JSON body; the answer's ``result``, or PTB's exception for it."""
        body = _ENCODER.encode(payload).encode("utf-8")
        return await self._post(url, body, _JSON)

    async def post_form(self, url: str, fields: dict[str, str]) -> Any:
        """POST string ``fields`` urlencoded (PTB's own wire format); like :meth:`post_json`."""
        return await self._post(url, urlencode(fields).encode("ascii"), _FORM)

    async def _post(self, url: str, body: bytes, content_type: str) -> Any:
        status, answer = await self._exchange(
            "POST", url, body, {"Content-Type": content_type}, None
        )
        if 200 <= status <= 299:
            return self.parse_json_payload(answer)["result"]
        return await _Replay(status, answer).post(url)  # raises PTB's exception for the answer

    async def _exchange(
        self,
        method: str,
        url: str,
        data: bytes | aiohttp.FormData,
        headers: dict[str, str] | None,
        timeouts: Timeouts | None,
    ) -> tuple[int, bytes]:
        try:
            answer = await self._http.request(
                method, url, data=_body_or_none(data), headers=headers, timeouts=timeouts
            )
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut(_NOT_SENT_MESSAGE) from exc
        except TimeoutError as exc:
            raise TimedOut(f"Timed out: {type(exc).__name__}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            detail = _TOKEN_IN_URL.sub("/bot<token>", str(exc))
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {detail}") from exc
        return answer.status, answer.body


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """``HTTPXRequest``'s multipart body: the parameters as fields, then the files."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename or name, content_type=mime_type)
    return form


class _Replay(BaseRequest):
    """A ``BaseRequest`` that answers with one given response, so PTB classifies it."""

    __slots__ = ("_answer",)

    def __init__(self, status: int, body: bytes) -> None:
        self._answer = (status, body)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return self._answer


def _body_or_none(data: bytes | aiohttp.FormData) -> bytes | aiohttp.FormData | None:
    return None if isinstance(data, bytes) and not data else data


def _chosen(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


__all__ = ["AiohttpRequest"]
