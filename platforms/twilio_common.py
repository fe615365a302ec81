"""What the SMS and WhatsApp adapters share: the error table, the form encoding, numbers.

The REST client itself (the SDK's ``Client`` on our HTTP port, and ``TwilioMessages``) is in
:mod:`platforms.twilio_client`, imported only where a Twilio request is made: this module imports
only the SDK's exceptions, so the web process starts without the SDK's REST and HTTP modules.

Errors are classified in one table, :func:`classify_twilio_error`::

    21610                    PermanentError(OPT_OUT)     recipient replied STOP
    21211, 21614             PermanentError(INVALID)     not a (mobile) number
    63016                    PermanentError              WhatsApp template required
    63014                    PermanentError(DEACTIVATE)  the user blocked our WhatsApp sender
    20429, HTTP 429          RateLimitedError            Retry-After header, else 1 s
    20003, HTTP 401          CredentialsRefusedError     credentials rejected (messages wait)
    HTTP 403                 ConfigurationError          not allowed for this account
    HTTP 5xx, network        TransientError              timeouts, refused/reset connections
    other HTTP 4xx           PermanentError              the request itself is wrong
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

import aiohttp
import phonenumbers
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from platforms.base import (
    ConfigurationError,
    ContactEffect,
    CredentialsRefusedError,
    DeliveryError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    TransientError,
)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_POOL_SIZE = 64  # the worker's default concurrency (MEDREMIND_WORKER_CONCURRENCY)
DEFAULT_RETRY_AFTER_SECONDS = 1.0  # Twilio's 429s often carry no Retry-After
LOOKUP_PAGE_SIZE = 20  # messages read when looking one up after an unknown outcome


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
    20003: _Rule(CredentialsRefusedError, "Twilio rejected the credentials"),
    # Delivery failures reported by status callbacks.
    30003: _Rule(TransientError, "handset unreachable"),
    30005: _Rule(PermanentError, "unknown destination number", ContactEffect.INVALID),
    30006: _Rule(PermanentError, "landline or unreachable carrier", ContactEffect.INVALID),
    30007: _Rule(PermanentError, "message filtered by the carrier"),
}


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
        if status == 401:
            return CredentialsRefusedError(
                f"Twilio rejected the credentials (HTTP {status})", code=label
            )
        if status == 403:
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
    "classify_twilio_code",
    "classify_twilio_error",
    "form_encode",
    "normalize_e164",
    "parse_retry_after",
    "status_callback_url",
]


def normalize_e164(address: str, *, default_region: str | None = None) -> str:
    """``address`` as an E.164 number (``+15551234567``); ``PermanentError(INVALID)`` otherwise.

    Runs before any HTTP so a malformed number never costs a Twilio request. Malformed is a
    number no country's plan could hold (its length): one libphonenumber's copy of the plans
    does not know may still be real - a patient wrote from +56 9 1234 5678, a range our copy
    lacks, and every reply to them failed here and put their number out of use (found in a
    test's set-up). Twilio knows the live plans: its 21211 answer marks a number invalid, with
    the same effect, when it is one.
    """
    raw = address.removeprefix("whatsapp:").strip()
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PermanentError(
            "not a phone number in E.164 form", code="invalid_number", effect=ContactEffect.INVALID
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise PermanentError(
            "not a valid phone number", code="invalid_number", effect=ContactEffect.INVALID
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
