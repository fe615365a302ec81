"""The Twilio REST client of the SMS and WhatsApp adapters and the clinic account check: the
twilio SDK's ``Client`` on our own HTTP port, and :class:`TwilioMessages`, which sends through it.

Apart from :mod:`platforms.twilio_common` (the error table, the form encoding and the other pure
helpers) because the SDK's REST and HTTP modules are slow to import (requests, urllib3 and the
REST resource tree: ~65 ms of CPU a process): the web process imports it only when it builds a
Twilio sender or checks a clinic's account, not at every start (many tests start web processes).

The twilio SDK builds absolute URLs from its domains (``https://api.twilio.com/2010-04-01/...``).
:class:`BaseUrlHttpClient` is the SDK's async HTTP port on aiohttp (one pooled session per client,
:mod:`platforms.http_session`): it rewrites the
``https://*.twilio.com`` prefix to ``TWILIO_API_BASE_URL`` (a proxy, or the loopback fake in tests)
and, on an error status, raises the SDK's own exception with the ``Retry-After`` header attached,
which the SDK would otherwise drop. It never logs: Twilio request bodies hold phone numbers.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.base.version import Version
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from platforms.base import ConfigurationError
from platforms.http_session import HttpSession, Timeouts
from platforms.twilio_common import (
    DEFAULT_API_BASE_URL,
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT_SECONDS,
    LOOKUP_PAGE_SIZE,
    classify_twilio_error,
    form_encode,
    parse_retry_after,
)

_TWILIO_ORIGIN = re.compile(r"^https://[a-z0-9.-]+\.twilio\.com(?=/|$)")


class BaseUrlHttpClient(AsyncHttpClient):
    """The twilio SDK's async HTTP port on aiohttp, sending to ``base_url`` instead of twilio.com.

    The SDK's own ``AsyncTwilioHttpClient`` is aiohttp too, but it opens its session outside the
    event loop, logs every request's URL and query at INFO (phone numbers), drops the
    ``Retry-After`` header and knows no base URL; this port keeps the stack and fixes those.
    ``pool_size`` bounds the connections of this client's one aiohttp session.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_API_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        # A silent logger: the SDK's base class would log URLs and headers at INFO.
        super().__init__(logger=_SILENT_LOGGER, is_async=True, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self._http = HttpSession(pool_size=pool_size, timeouts=_timeouts(timeout))

    def rewrite(self, url: str) -> str:
        """Map an SDK URL (``https://api.twilio.com/...``) onto the configured base URL."""
        return _TWILIO_ORIGIN.sub(self.base_url, url, count=1)

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's port signature
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        """Send one request; raise the SDK's exception, with ``retry_after``, on an error status."""
        url = self.rewrite(uri)
        if params:
            url += ("&" if "?" in url else "?") + form_encode(params)
        sent_headers = dict(headers or {})
        body = None
        if data:
            body = form_encode(data).encode("ascii")
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = await self._http.request(
            method.upper(),
            url,
            data=body,
            headers=sent_headers,
            auth=auth,
            timeouts=_timeouts(timeout) if timeout else None,
            allow_redirects=allow_redirects,
        )
        text = answer.body.decode("utf-8", errors="replace")
        result = TwilioResponse(answer.status, text, headers=answer.headers)
        if answer.status >= 400:
            exc = Version.exception(method, url, result, "Twilio request failed")
            exc.retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            raise exc
        return result

    async def close(self) -> None:
        """Close the connection pool; safe to call twice."""
        await self._http.aclose()


def _timeouts(seconds: float) -> Timeouts:
    return Timeouts(connect=seconds, read=seconds, write=seconds, pool=seconds)


class _SilentLogger:
    def info(self, *args: Any, **kwargs: Any) -> None:
        pass

    debug = warning = error = info


_SILENT_LOGGER: Any = _SilentLogger()


def make_client(
    account_sid: str,
    auth_token: str,
    *,
    api_base_url: str = DEFAULT_API_BASE_URL,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    pool_size: int = DEFAULT_POOL_SIZE,
) -> tuple[Client, BaseUrlHttpClient]:
    """A twilio ``Client`` that speaks to ``api_base_url``; close the returned HTTP client."""
    http_client = BaseUrlHttpClient(api_base_url, timeout=timeout, pool_size=pool_size)
    client = Client(
        account_sid,
        auth_token,
        account_sid,
        http_client=http_client,
        # Non-empty so the SDK does not read TWILIO_EDGE/REGION from os.environ behind our back.
        environment={"MEDREMIND": "1"},
    )
    return client, http_client


class TwilioMessages:
    """Creates Message resources and turns every failure into a classified ``DeliveryError``."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        if not account_sid or not auth_token:
            raise ConfigurationError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
        self._client, self._http = make_client(
            account_sid,
            auth_token,
            api_base_url=api_base_url,
            timeout=timeout,
            pool_size=pool_size,
        )
        self._closed = False

    async def create(self, **params: Any) -> dict[str, Any]:
        """POST a message; return the non-PHI part of Twilio's answer (sid, status, segments)."""
        try:
            message = await self._client.messages.create_async(**params)
        except (TimeoutError, TwilioException, aiohttp.ClientError, OSError) as exc:
            raise classify_twilio_error(exc) from exc
        return {
            "sid": message.sid,
            "status": message.status,
            "num_segments": message.num_segments,
            "error_code": message.error_code,
        }

    async def recent_to(
        self, to: str, *, from_: str | None = None, limit: int = LOOKUP_PAGE_SIZE
    ) -> list[dict[str, Any]]:
        """The account's latest messages to ``to`` (from ``from_``, if given), newest first.

        Twilio's Messages list (``GET .../Messages.json?To=...&From=...&PageSize=...``), one page.
        No ``DateSent`` filter: a message still queued has no ``date_sent`` and would be missed.
        Each as ``sid``, ``status``, ``direction``, ``from``, ``messaging_service_sid``, ``body``
        and ``date_created`` (aware); for matching only, never logged.
        """
        options: dict[str, Any] = {"to": to, "page_size": limit, "limit": limit}
        if from_:
            options["from_"] = from_
        try:
            found = await self._client.messages.list_async(**options)
        except (TimeoutError, TwilioException, aiohttp.ClientError, OSError) as exc:
            raise classify_twilio_error(exc) from exc
        return [
            {
                "sid": m.sid,
                "status": m.status,
                "direction": m.direction,
                "from": m.from_,
                "messaging_service_sid": m.messaging_service_sid,
                "body": m.body,
                "date_created": m.date_created,
            }
            for m in found
        ]

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._http.close()


__all__ = ["BaseUrlHttpClient", "TwilioMessages", "make_client"]
