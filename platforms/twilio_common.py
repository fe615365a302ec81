"""What the SMS and WhatsApp adapters share: the Twilio REST client and the error table.

The twilio SDK builds absolute URLs from its domains (``https://api.twilio.com/2010-04-01/...``).
:class:`BaseUrlHttpClient` is the SDK's async HTTP port implemented with httpx: it rewrites the
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
    HTTP 5xx, network        TransientError
    other HTTP 4xx           PermanentError              the request itself is wrong
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
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
    PermanentError,
    RateLimitedError,
    TransientError,
)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0  # Twilio's 429s often carry no Retry-After
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
    """The twilio SDK's async HTTP port over httpx, sending to ``base_url`` instead of twilio.com.

    ``transport`` lets tests plug an ``httpx.MockTransport``; the loopback fake needs none.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_API_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # A silent logger: the SDK's base class would log URLs and headers at INFO.
        super().__init__(logger=_SILENT_LOGGER, is_async=True, timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)

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
        response = await self._client.request(
            method.upper(),
            url,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            follow_redirects=allow_redirects,
        )
        result = TwilioResponse(response.status_code, response.text, headers=response.headers)
        if response.status_code >= 400:
            exc = Version.exception(method, url, result, "Twilio request failed")
            exc.retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise exc
        return result

    async def close(self) -> None:
        """Close the connection pool; safe to call twice."""
        await self._client.aclose()


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
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[Client, BaseUrlHttpClient]:
    """A twilio ``Client`` that speaks to ``api_base_url``; close the returned HTTP client."""
    http_client = BaseUrlHttpClient(api_base_url, timeout=timeout, transport=transport)
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
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not account_sid or not auth_token:
            raise ConfigurationError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
        self._client, self._http = make_client(
            account_sid,
            auth_token,
            api_base_url=api_base_url,
            timeout=timeout,
            transport=transport,
        )
        self._closed = False

    async def create(self, **params: Any) -> dict[str, Any]:
        """POST a message; return the non-PHI part of Twilio's answer (sid, status, segments)."""
        try:
            message = await self._client.messages.create_async(**params)
        except (TimeoutError, TwilioException, httpx.HTTPError, OSError) as exc:
            raise classify_twilio_error(exc) from exc
        return {
            "sid": message.sid,
            "status": message.status,
            "num_segments": message.num_segments,
            "error_code": message.error_code,
        }

    async def aclose(self) -> None:
        """Release connections; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._http.close()


def classify_twilio_error(exc: BaseException) -> DeliveryError:
    """Translate a twilio SDK, httpx or socket error into our error tree (the one table)."""
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
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return TransientError(f"Twilio request timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.HTTPError | OSError):
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
