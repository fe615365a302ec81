"""Field validation for the JSON API: each check raises ``ValidationFailed(field, reason)``.

Field names are JSON paths as the client wrote them (``channel_order[2]``), so a 422 tells the
client exactly what to fix.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from core.template_vocabulary import length_problem
from medremind.web.errors import ValidationFailed

CHANNELS = ("telegram", "whatsapp", "sms", "email", "console")
PLATFORMS = (*CHANNELS, "auto")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
# Times a few seconds in the past are clock skew between the client and us, not a mistake.
PAST_TOLERANCE = timedelta(seconds=60)


def require_object(body: Any) -> Mapping[str, Any]:
    """The request body must be a JSON object."""
    if not isinstance(body, Mapping):
        raise ValidationFailed("body", "must be a JSON object")
    return body


def reject_unknown(body: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
    """A misspelt field is a client bug worth reporting, not something to ignore silently."""
    for key in body:
        if key not in allowed:
            raise ValidationFailed(f"{prefix}{key}", "unknown field")


def string(
    body: Mapping[str, Any],
    field: str,
    *,
    required: bool = False,
    max_length: int = 200,
    min_length: int = 1,
    path: str | None = None,
) -> str | None:
    """A string of ``min_length``..``max_length`` characters (after trimming)."""
    name = path or field
    value = body.get(field)
    if value is None:
        if required:
            raise ValidationFailed(name, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationFailed(name, "must be a string")
    value = value.strip()
    if len(value) < min_length:
        raise ValidationFailed(name, f"must be at least {min_length} character(s)")
    if len(value) > max_length:
        raise ValidationFailed(name, f"must be at most {max_length} characters")
    if "\x00" in value:
        raise ValidationFailed(name, "must not contain NUL characters")
    return value


def template_value(
    body: Mapping[str, Any], field: str, variable: str, *, required: bool = False
) -> str | None:
    """A string filled into reminders as ``variable``: at most that variable's maximum, counted
    in UTF-16 units (``core.template_vocabulary``; the database holds the column to it too)."""
    value = string(body, field, required=required, max_length=200)
    checked(value, field, variable)
    return value


def checked(value: str | None, field: str, variable: str) -> None:
    """Refuse ``value`` (named ``field``) when it is longer than ``variable`` may be."""
    problem = length_problem(variable, value) if value is not None else None
    if problem is not None:
        raise ValidationFailed(field, problem)


def integer(
    body: Mapping[str, Any], field: str, *, low: int, high: int, default: int | None = None
) -> int | None:
    """An integer in ``low..high`` (booleans are not integers here)."""
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(field, "must be an integer")
    if not low <= value <= high:
        raise ValidationFailed(field, f"must be between {low} and {high}")
    return value


def boolean(body: Mapping[str, Any], field: str, *, default: bool) -> bool:
    """A JSON boolean."""
    value = body.get(field)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationFailed(field, "must be true or false")
    return value


def uuid_value(value: Any, field: str) -> uuid.UUID:
    """A UUID in its canonical text form."""
    if not isinstance(value, str):
        raise ValidationFailed(field, "must be a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed(field, "must be a UUID") from None


def uuid_field(body: Mapping[str, Any], field: str, *, required: bool = True) -> uuid.UUID | None:
    """A required (or optional) UUID field."""
    value = body.get(field)
    if value is None:
        if required:
            raise ValidationFailed(field, "is required")
        return None
    return uuid_value(value, field)


def parse_datetime(value: Any, field: str) -> datetime:
    """An ISO 8601 date-time with an offset (a naive time would be ambiguous across zones)."""
    if not isinstance(value, str):
        raise ValidationFailed(field, "must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationFailed(field, "must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValidationFailed(field, "must include a UTC offset, e.g. 2026-03-01T08:00:00Z")
    if not 1970 <= parsed.year <= 9998:
        raise ValidationFailed(field, "is out of range")
    return parsed


def datetime_field(
    body: Mapping[str, Any],
    field: str,
    *,
    now: datetime,
    required: bool = False,
    future: bool = True,
) -> datetime | None:
    """A date-time that, with ``future``, is not in the past."""
    value = body.get(field)
    if value is None:
        if required:
            raise ValidationFailed(field, "is required")
        return None
    parsed = parse_datetime(value, field)
    if future and parsed < now - PAST_TOLERANCE:
        raise ValidationFailed(field, "is in the past")
    return parsed


def e164(value: Any, field: str) -> str:
    """A phone number in E.164 form (``+`` and country code), valid for its country."""
    if not isinstance(value, str) or not value.startswith("+"):
        raise ValidationFailed(field, "must be an E.164 number such as +14155550123")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(field, "is not a phone number in E.164 form") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(field, "is not a valid phone number")
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if formatted != value:
        raise ValidationFailed(field, "must be in E.164 form without spaces, e.g. +14155550123")
    return formatted


def email(value: Any, field: str) -> str:
    """A plausible e-mail address (delivery proves the rest)."""
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value):
        raise ValidationFailed(field, "must be an e-mail address")
    return value


def timezone(value: Any, field: str) -> str:
    """An IANA timezone name such as ``Europe/Berlin``."""
    if not isinstance(value, str) or not value or len(value) > 64 or value != value.strip():
        raise ValidationFailed(field, "must be an IANA timezone such as Europe/Berlin")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(field, "is not a known IANA timezone") from None
    return value


def locale(value: Any, field: str) -> str:
    """A language tag such as ``en`` or ``es-MX``."""
    if not isinstance(value, str) or not _LOCALE.match(value):
        raise ValidationFailed(field, "must be a language tag such as en or es-MX")
    return value


def choice(value: Any, field: str, options: tuple[str, ...]) -> str:
    """One of ``options``."""
    if value not in options:
        raise ValidationFailed(field, "must be one of " + ", ".join(options))
    return value


def channel_order(value: Any, field: str) -> list[str]:
    """A non-empty list of distinct channels."""
    if not isinstance(value, list) or not value:
        raise ValidationFailed(field, "must be a non-empty list of channels")
    seen: list[str] = []
    for i, item in enumerate(value):
        choice(item, f"{field}[{i}]", CHANNELS)
        if item in seen:
            raise ValidationFailed(f"{field}[{i}]", "is listed twice")
        seen.append(item)
    return seen


def int_list(value: Any, field: str, *, low: int, high: int, max_items: int = 10) -> list[int]:
    """A list of integers in ``low..high``."""
    if not isinstance(value, list) or len(value) > max_items:
        raise ValidationFailed(field, f"must be a list of at most {max_items} integers")
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            raise ValidationFailed(f"{field}[{i}]", f"must be an integer between {low} and {high}")
    return list(value)
