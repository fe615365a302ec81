"""Twilio Content API resources for WhatsApp quick replies: created once, then reused.

Wire format (Twilio docs: https://www.twilio.com/docs/content/content-api-resources,
https://www.twilio.com/docs/content/twilio-quick-reply)::

    POST https://content.twilio.com/v1/Content          HTTP basic auth AccountSid:AuthToken
    Content-Type: application/json
    {"friendly_name": "...", "language": "en", "variables": {"1": "sample", ...},
     "types": {"twilio/quick-reply": {"body": "{{1}}",
                                      "actions": [{"title": "{{2}}", "id": "{{3}}"}, ...]}}}

    201 {"sid": "HX<32 hex>", "account_sid": "AC...", "friendly_name": ..., "language": ...,
         "variables": {...}, "types": {...}, "url": ..., "links": {...}, "date_created": ...}

Errors come as Twilio's JSON (``{"code", "message", "more_info", "status"}``) and are classified by
the one table in :mod:`platforms.twilio_common`. The message is then sent on the Messages API with
``ContentSid`` and ``ContentVariables`` (a JSON object of strings), see :mod:`platforms.whatsapp`.

:class:`QuickReplyContents` keeps ``layout -> Content SID`` in process, asks a
:class:`ContentStore` (Postgres in the processes, so a restart does not create contents again)
before creating one, and creates each layout at most once at a time (a lock per layout). A failed
creation is not retried for :data:`RETRY_AFTER_FAILURE_SECONDS`, so an account without Content
API access costs one request per layout per interval, not one per message. Failures surface as
:class:`ContentUnavailable`, which names the error class and code only: never a text.

The Content API lives on its own host (``content.twilio.com``); ``TWILIO_CONTENT_API_BASE_URL``
overrides it, and a ``TWILIO_API_BASE_URL`` that is not Twilio's (a proxy, the loopback fake in
tests) is used for it too, see :attr:`core.settings.Settings.twilio_content_base_url`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Protocol

import aiohttp
from twilio.base.exceptions import TwilioRestException

from platforms.base import ConfigurationError, DeliveryError, ErrorClass, TransientError
from platforms.http_session import Answer, HttpSession, Timeouts
from platforms.twilio_common import (
    DEFAULT_TIMEOUT_SECONDS,
    classify_twilio_error,
    parse_retry_after,
)
from platforms.whatsapp_quick_reply import Layout

log = logging.getLogger(__name__)

DEFAULT_CONTENT_API_BASE_URL = "https://content.twilio.com"
RETRY_AFTER_FAILURE_SECONDS = 300.0
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


class ContentUnavailable(Exception):
    """No Content SID for a layout right now; the caller sends numbered text instead.

    ``error_class`` and ``code`` say why (no text of any message is in here).
    """

    def __init__(self, error_class: ErrorClass, code: str | None, *, cooling_down: bool) -> None:
        super().__init__(f"quick-reply content unavailable ({error_class}, code {code})")
        self.error_class = error_class
        self.code = code
        self.cooling_down = cooling_down


class ContentStore(Protocol):
    """Where created Content SIDs outlive the process (one row per account and layout)."""

    async def get(self, account_sid: str, layout_key: str) -> str | None:
        """The stored SID, or None (also when the store cannot be reached)."""
        ...

    async def put(self, account_sid: str, layout_key: str, content_sid: str) -> str:
        """Store ``content_sid`` unless one is stored already; return the one that is kept."""
        ...

    async def forget(self, account_sid: str, layout_key: str, content_sid: str) -> None:
        """Drop ``content_sid`` (Twilio no longer knows it) if it is still the stored one."""
        ...


class ContentApi:
    """``POST /v1/Content`` over aiohttp; every failure becomes a classified ``DeliveryError``.

    Contents are created once per layout, so a small pool is plenty.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        base_url: str = DEFAULT_CONTENT_API_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not account_sid or not auth_token:
            raise ConfigurationError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self._url = base_url.rstrip("/") + "/v1/Content"
        seconds = Timeouts(connect=timeout, read=timeout, write=timeout, pool=timeout)
        self._http = HttpSession(pool_size=4, timeouts=seconds)
        self._closed = False

    async def create(self, request: dict[str, object]) -> str:
        """Create a Content resource from ``request`` (the JSON body); return its ``HX`` SID."""
        try:
            response = await self._http.request(
                "POST",
                self._url,
                data=json.dumps(request).encode("utf-8"),
                headers={"Accept": "application/json", "Content-Type": "application/json"},
                auth=self._auth,
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise classify_twilio_error(exc) from exc
        if response.status >= 400:
            raise classify_twilio_error(_rest_exception(response, self._url)) from None
        payload = _json_or_none(response.body)
        sid = payload.get("sid") if isinstance(payload, dict) else None
        if not isinstance(sid, str) or not _CONTENT_SID.match(sid):
            raise TransientError("Twilio Content API answered without a Content SID")
        return sid

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._http.aclose()


def _json_or_none(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:  # also UnicodeDecodeError
        return None


def _rest_exception(response: Answer, url: str) -> TwilioRestException:
    """Twilio's error JSON as the SDK's exception, so the one error table classifies it."""
    code: int | None = None
    message = "Twilio Content API request failed"
    payload = _json_or_none(response.body)
    if isinstance(payload, dict):
        raw = payload.get("code")
        code = raw if isinstance(raw, int) else None
        message = str(payload.get("message") or message)
    exc = TwilioRestException(response.status, url, message, code, "POST")
    exc.retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return exc


class QuickReplyContents:
    """``await contents.content_sid(layout)``: the Content SID of a layout, created at most once.

    ``created`` counts resources this instance created (for tests and ``medremind check``).
    """

    def __init__(
        self,
        api: ContentApi,
        *,
        store: ContentStore | None = None,
        retry_after_failure: float = RETRY_AFTER_FAILURE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.store = store
        self.retry_after_failure = retry_after_failure
        self.monotonic = monotonic
        self.created = 0
        self._sids: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._failed: dict[str, tuple[float, DeliveryError]] = {}

    async def content_sid(self, layout: Layout) -> str:
        """The SID for ``layout``: cached, else stored, else created now.

        Raises :class:`ContentUnavailable` when creation failed now or failed within the last
        ``retry_after_failure`` seconds.
        """
        key = layout.key
        if (sid := self._sids.get(key)) is not None:
            return sid
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if (sid := self._sids.get(key)) is not None:
                return sid
            self._check_cooldown(key)
            account = self.api.account_sid
            sid = await self.store.get(account, key) if self.store is not None else None
            if sid is None:
                try:
                    created = await self.api.create(layout.create_request())
                except DeliveryError as exc:
                    self._failed[key] = (self.monotonic() + self.retry_after_failure, exc)
                    raise ContentUnavailable(exc.error_class, exc.code, cooling_down=False) from exc
                self.created += 1
                log.info("whatsapp quick-reply content created", extra={"layout": key})
                sid = (
                    await self.store.put(account, key, created)
                    if self.store is not None
                    else created
                )
            self._failed.pop(key, None)
            self._sids[key] = sid
            return sid

    def _check_cooldown(self, key: str) -> None:
        failed = self._failed.get(key)
        if failed is None:
            return
        until, exc = failed
        if self.monotonic() < until:
            raise ContentUnavailable(exc.error_class, exc.code, cooling_down=True)
        del self._failed[key]

    async def forget(self, layout: Layout, content_sid: str) -> None:
        """Drop a SID Twilio refused (deleted in the console): the next send creates a new one."""
        if self._sids.get(layout.key) == content_sid:
            del self._sids[layout.key]
        if self.store is not None:
            await self.store.forget(self.api.account_sid, layout.key, content_sid)

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        await self.api.aclose()


__all__ = [
    "DEFAULT_CONTENT_API_BASE_URL",
    "ContentApi",
    "ContentStore",
    "ContentUnavailable",
    "QuickReplyContents",
]
