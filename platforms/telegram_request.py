"""python-telegram-bot's networking port (``BaseRequest``) on our lean HTTP/1.1 client.

``BaseRequest`` is PTB's documented extension point for custom networking backends: ``Bot`` builds
the request, calls :meth:`LeanRequest.do_request` for ``(status, body)``, and turns every answer
into its own error hierarchy in one place (``BaseRequest.post``). Requests with parameters only
(sendMessage, editMessageText, answerCallbackQuery, setWebhook...) go through
:class:`platforms.http11.HTTPClient` in the same wire format as PTB's ``HTTPXRequest``
(urlencoded, non-string values JSON-encoded). Uploads (multipart: ``send_photo`` and
``send_document`` with bytes) are rare and go through a lazily made ``HTTPXRequest``.

:meth:`LeanRequest.post_json` and :meth:`LeanRequest.post_form` are the hot path for
:class:`platforms.telegram.TelegramSender`: ready parameters in, the ``result`` out. A non-2xx
answer is handed to PTB's own ``BaseRequest.post`` (through :class:`_Replay`), so it raises
exactly the exception PTB would (``RetryAfter``, ``ChatMigrated``, ``Forbidden``, ``BadRequest``,
``InvalidToken``, ``NetworkError``...), and :func:`platforms.telegram.classify_telegram_error`
stays the one table.

Client errors map onto PTB's: every timeout is ``TimedOut`` (a pool timeout says nothing was
sent), every other failure ``NetworkError``; both are transient in our table.

Behind an outbound proxy (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` naming one for the Bot
API's host and ``NO_PROXY`` not exempting it, read as urllib and httpx read them) the exchanges
go through an ``httpx.AsyncClient`` that uses the proxy, as PTB's own backend did: slower, but a
deployment that must go through a proxy keeps working.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from telegram._utils.defaultvalue import DefaultValue  # what HTTPXRequest checks, too
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from platforms.http11 import HTTPClient, HTTPClientError, PoolTimeout, Timeout, Timeouts

_FORM = "application/x-www-form-urlencoded"
# One encoder: json.dumps with any option builds a new JSONEncoder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_JSON = "application/json"
_POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


class LeanRequest(BaseRequest):
    """A ``BaseRequest`` over :class:`~platforms.http11.HTTPClient`; see the module docstring.

    Timeouts are PTB's four (seconds, ``None`` waits forever); ``connection_pool_size`` bounds
    the connections to the Bot API server (requests beyond it wait up to ``pool_timeout``).
    """

    __slots__ = (
        "_client",
        "_media_write_timeout",
        "_pool_size",
        "_proxied",
        "_proxy_client",
        "_timeouts",
        "_uploads",
    )

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
        self._pool_size = connection_pool_size
        self._timeouts = Timeouts(
            connect=connect_timeout, read=read_timeout, write=write_timeout, pool=pool_timeout
        )
        self._media_write_timeout = media_write_timeout
        self._client = self._new_client()
        self._uploads: HTTPXRequest | None = None
        self._proxied: dict[str, bool] = {}  # origin -> does the environment proxy it
        self._proxy_client: httpx.AsyncClient | None = None

    def _new_client(self) -> HTTPClient:
        return HTTPClient(
            pool_size=self._pool_size, timeouts=self._timeouts, user_agent=self.USER_AGENT
        )

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB reads it to extend long-polling timeouts)."""
        return self._timeouts.read

    async def initialize(self) -> None:
        """Nothing to open up front (connections are made on demand); reopens after shutdown."""
        if self._client.closed:
            self._client = self._new_client()

    async def shutdown(self) -> None:
        """Close every connection; safe to call twice."""
        await self._client.aclose()
        if self._proxy_client is not None:
            await self._proxy_client.aclose()
            self._proxy_client = None
        if self._uploads is not None:
            await self._uploads.shutdown()
            self._uploads = None

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
        if request_data is not None and request_data.contains_files:
            return await self._upload(
                url,
                method,
                request_data,
                read_timeout,
                write_timeout,
                connect_timeout,
                pool_timeout,
            )
        defaults = self._timeouts
        timeouts = Timeouts(
            connect=_chosen(connect_timeout, defaults.connect),
            read=_chosen(read_timeout, defaults.read),
            write=_chosen(write_timeout, defaults.write),
            pool=_chosen(pool_timeout, defaults.pool),
        )
        body = b""
        content_type = None
        if request_data is not None:
            # HTTPXRequest's wire format: urlencoded, every non-string value JSON-encoded.
            body = request_data.url_encoded_parameters().encode("ascii")
            content_type = _FORM
        return await self._exchange(method, url, body, content_type, timeouts)

    async def post_json(self, url: str, payload: dict[str, Any]) -> Any:
        """POST ``payload`` as a JSON body; the answer's ``result``, or PTB's exception for it."""
        body = _ENCODER.encode(payload).encode("utf-8")
        return await self._post(url, body, _JSON)

    async def post_form(self, url: str, fields: dict[str, str]) -> Any:
        """POST string ``fields`` urlencoded (PTB's own wire format); like :meth:`post_json`."""
        return await self._post(url, urlencode(fields).encode("ascii"), _FORM)

    async def _post(self, url: str, body: bytes, content_type: str) -> Any:
        status, answer = await self._exchange("POST", url, body, content_type, self._timeouts)
        if 200 <= status <= 299:
            return self.parse_json_payload(answer)["result"]
        return await _Replay(status, answer).post(url)  # raises PTB's exception for the answer

    async def _exchange(
        self, method: str, url: str, body: bytes, content_type: str | None, timeouts: Timeouts
    ) -> tuple[int, bytes]:
        if self._uses_proxy(url):
            return await self._exchange_via_proxy(method, url, body, content_type, timeouts)
        try:
            response = await self._client.request(
                method, url, body, content_type=content_type, timeouts=timeouts
            )
        except PoolTimeout as exc:
            raise TimedOut(_POOL_TIMEOUT_MESSAGE) from exc
        except Timeout as exc:
            raise TimedOut(f"Timed out: {exc}") from exc
        except HTTPClientError as exc:
            # The message never quotes the URL, which holds the bot token.
            raise NetworkError(f"http11.{type(exc).__name__}: {exc}") from exc
        return response.status, response.body

    def _uses_proxy(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        proxied = self._proxied.get(origin)
        if proxied is None:
            proxies = urllib.request.getproxies_environment()
            named = parts.scheme in proxies or "all" in proxies
            proxied = named and not urllib.request.proxy_bypass(parts.hostname or "")
            self._proxied[origin] = proxied
        return proxied

    async def _exchange_via_proxy(
        self, method: str, url: str, body: bytes, content_type: str | None, timeouts: Timeouts
    ) -> tuple[int, bytes]:
        if self._proxy_client is None:
            self._proxy_client = httpx.AsyncClient(
                trust_env=True,
                limits=httpx.Limits(max_connections=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )
        timeout = httpx.Timeout(
            connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
        )
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            response = await self._proxy_client.request(
                method, url, content=body or None, headers=headers, timeout=timeout
            )
        except httpx.TimeoutException as exc:
            raise TimedOut(f"Timed out: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            # The message never quotes the URL, which holds the bot token.
            raise NetworkError(f"httpx.{type(exc).__name__} through the proxy") from exc
        return response.status_code, response.content

    async def _upload(
        self,
        url: str,
        method: str,
        request_data: RequestData,
        read_timeout: Any,
        write_timeout: Any,
        connect_timeout: Any,
        pool_timeout: Any,
    ) -> tuple[int, bytes]:
        # Multipart uploads are rare (charts, CSVs); PTB's httpx backend already does them right.
        if self._uploads is None:
            defaults = self._timeouts
            self._uploads = HTTPXRequest(
                connection_pool_size=4,
                read_timeout=defaults.read,
                write_timeout=defaults.write,
                connect_timeout=defaults.connect,
                pool_timeout=defaults.pool,
                media_write_timeout=self._media_write_timeout,
            )
            await self._uploads.initialize()
        return await self._uploads.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )


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


def _chosen(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


__all__ = ["LeanRequest"]
