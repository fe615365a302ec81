"""What the SMS and WhatsApp adapters share: the Twilio REST client and the error table.

The twilio SDK builds absolute URLs from its domains (``https://api.twilio.com/2010-04-01/...``).
:class:`BaseUrlHttpClient` is the SDK's async HTTP port on aiohttp (one pooled session per client,
:mod:`platforms.http_session`): it rewrites the
``https://*.twilio.com`` prefix to ``TWILIO_API_BASE_URL`` (a proxy, or the loopback fake in tests)
and, on an error status, raises the SDK's own exception with the ``Retry-After`` header attached,
which the SDK would otherwise drop. It never logs: Twilio request bodies hold phone numbers.

Errors are classified in one table, :func:`classify_twilio_error`::

    21610                    PermanentError(OPT_OUT)     recipient replied STOP
    21211, 21614             PermanentError(INVALID)     not a (mobile) number
    63016                    PermanentError              WhatsApp template required
    63014                    PermanentError(DEACTIVATE)  the user blocked our WhatsApp sender
    20429, HTTP 429          RateLimitedError            Retry-After header, else 1 s
    20003, HTTP 401/403      ConfigurationError          credentials rejected
    HTTP 5xx, network        TransientError              timeouts, refused/reset connections
    other HTTP 4xx           PermanentError              the request itself is wrong
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import phonenumbers
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.base.version import Version
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from platforms.base import (
    ConfigurationError,
    ContactEffect,
    DeliveryError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from platforms.http_session import HttpSession, Timeouts

DEFAULT_API_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_POOL_SIZE = 64  # the worker's default concurrency (MEDREMIND_WORKER_CONCURRENCY)
DEFAULT_RETRY_AFTER_SECONDS = 1.0  # Twilio's 429s often carry no Retry-After
LOOKUP_PAGE_SIZE = 20  # messages read when looking one up after an unknown outcome
_TWILIO_ORIGIN = re.compile(r"^https://[a-z0-9.-]+\.twilio\.com(?=/|$)")


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: type[DeliveryError]
    reason: str
    effect: ContactEffect = ContactEffect.NONE


# The error table, by Twilio error code. Codes can also arrive later in status callbacks.
TWILIO_ERROR_CODES: dict[int, _Rule] = {
    21610: _Rule(PermanentError, "recipient opted out (replied STOP)", ContactEffect.OPT_OUT),
    21211: _Rule(PermanentError, "invalid 'To' phone number", ContactEffect.INVALID),
    21614: _Rule(PermanentError, "'To' number is not a mobile number", ContactEffect.INVALID),
    63016: _Rule(PermanentError, "template required: outside the WhatsApp 24-hour window"),
    63014: _Rule(
        PermanentError, "the recipient blocked this WhatsApp sender", ContactEffect.DEACTIVATE
    ),
    20429: _Rule(RateLimitedError, "too many requests"),
    20003: _Rule(ConfigurationError, "Twilio rejected the credentials"),
    # Delivery failures reported by status callbacks.
    30003: _Rule(TransientError, "handset unreachable"),
    30005: _Rule(PermanentError, "unknown destination number", ContactEffect.INVALID),
    30006: _Rule(PermanentError, "landline or unreachable carrier", ContactEffect.INVALID),
    30007: _Rule(PermanentError, "message filtered by the carrier"),
}


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


def form_encode(fields: Mapping[str, object]) -> str:
    """``application/x-www-form-urlencoded`` as the SDK's requests and httpx clients encode it.

    A list repeats its key (``MediaUrl``); booleans are ``true``/``false``; ``None`` is empty.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        for item in value if isinstance(value, list | tuple) else (value,):
            pairs.append((key, _form_value(item)))
    return urlencode(pairs)


def _form_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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


def classify_twilio_error(exc: BaseException) -> DeliveryError:
    """Translate a twilio SDK, aiohttp or socket error into our error tree (the one table)."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(getattr(exc, "status", 0) or 0)
        code = _int_or_none(getattr(exc, "code", None))
        retry_after = getattr(exc, "retry_after", None) or DEFAULT_RETRY_AFTER_SECONDS
        by_code = classify_twilio_code(code, retry_after=retry_after)
        if by_code is not None:
            return by_code
        label = str(code or status)
        if status == 429:
            return RateLimitedError(
                "Twilio: too many requests", retry_after=retry_after, code=label
            )
        if status in (401, 403):
            return ConfigurationError(f"Twilio rejected the request (HTTP {status})", code=label)
        if status >= 500 or status == 0:
            return TransientError(f"Twilio server error (HTTP {status})", code=label)
        return PermanentError(
            f"Twilio refused the message (HTTP {status}, code {code})", code=label
        )
    if isinstance(exc, TimeoutError):  # aiohttp's timeouts are asyncio's, so TimeoutError
        # The request may have reached Twilio: the dispatcher looks the message up first.
        return OutcomeUnknownError(f"Twilio request timed out ({type(exc).__name__})")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return TransientError(f"network error talking to Twilio ({type(exc).__name__})")
    return TransientError(f"unexpected Twilio client error ({type(exc).__name__})")


def classify_twilio_code(
    code: int | str | None, *, retry_after: float = DEFAULT_RETRY_AFTER_SECONDS
) -> DeliveryError | None:
    """The classified error for a Twilio error code (REST answer or status callback), if known."""
    number = _int_or_none(code)
    rule = TWILIO_ERROR_CODES.get(number) if number is not None else None
    if rule is None:
        return None
    message = f"Twilio {number}: {rule.reason}"
    if rule.kind is RateLimitedError:
        return RateLimitedError(message, retry_after=retry_after, code=str(number))
    if rule.kind is PermanentError:
        return PermanentError(message, code=str(number), effect=rule.effect)
    return rule.kind(message, code=str(number))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def status_callback_url(public_base_url: str | None) -> str | None:
    """Where Twilio posts delivery statuses: ``PUBLIC_BASE_URL + /twilio/status``."""
    return f"{public_base_url.rstrip('/')}/twilio/status" if public_base_url else None


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


__all__ = [
    "DEFAULT_API_BASE_URL",
    "TWILIO_ERROR_CODES",
    "BaseUrlHttpClient",
    "TwilioMessages",
    "classify_twilio_code",
    "classify_twilio_error",
    "form_encode",
    "make_client",
    "normalize_e164",
    "parse_retry_after",
    "status_callback_url",
]


def normalize_e164(address: str, *, default_region: str | None = None) -> str:
    """``address`` as an E.164 number (``+15551234567``); ``PermanentError(INVALID)`` otherwise.

    Runs before any HTTP so a malformed number never costs a Twilio request.
    """
    raw = address.removeprefix("whatsapp:").strip()
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PermanentError(
            "not a phone number in E.164 form", code="invalid_number", effect=ContactEffect.INVALID
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PermanentError(
            "not a valid phone number", code="invalid_number", effect=ContactEffect.INVALID
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
