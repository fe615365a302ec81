"""The field types of the API's pydantic models: each checks one kind of value and says, when it
fails, what is wrong and what a good value looks like.

A failing check raises :class:`pydantic_core.PydanticCustomError` with the sentence the client
reads; :mod:`medremind.web.api_v1.problems` turns it into the 422 ``{"error": {...}}`` answer with
``field`` set to the JSON path (``channel_order[2]``). The OpenAPI document takes each type's
schema (``format``, ``pattern``, bounds) from the same annotations.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from bot.locale_format import LOCALES
from core.direction_controls import unclosed_direction_control
from core.one_line import line_break_problem
from core.person_names import clean_name, is_visible, name_problem, without_direction_scopes
from core.records import MessageKind, MessageStatus
from core.template_vocabulary import length_problem, max_units
from core.zone_names import canonical_zone
from medremind.web.errors import ValidationFailed

# Every channel a stored row may name, `console` (medremind dev's terminal) too: templates and
# what the API reads back.
CHANNELS = ("telegram", "whatsapp", "sms", "email", "console")
Channel = Literal["telegram", "whatsapp", "sms", "email", "console"]
# The channels a client may put a patient or a message on. `console` is the terminal of
# `medremind dev`, where the person at the keyboard chats through the bot, never through the API:
# a patient put on it by an integrator got their reminders printed on the service's output.
PatientChannel = Literal["telegram", "whatsapp", "sms", "email"]
Platform = Literal["telegram", "whatsapp", "sms", "email", "auto"]
Kind = Literal[
    "medication_reminder",
    "dose_followup",
    "missed_dose_caregiver",
    "caregiver_dose_update",
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_cancelled",
    "appointment_rescheduled",
    "refill_reminder",
    "free_text",
    "system",
]
MessageStatusName = Literal[
    "pending", "processing", "sent", "delivered", "failed", "cancelled", "expired"
]
# Spelt out for the type checker; the records' enums stay the one list.
if {*get_args(Kind)} != {k.value for k in MessageKind} or {*get_args(MessageStatusName)} != {
    s.value for s in MessageStatus
}:
    raise ImportError("fields.Kind / MessageStatusName differ from core.records")

_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _fail(reason: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", reason)


# A query's whole number as written: the digits 0-9 alone (nine at most: no limit is longer).
_QUERY_DIGITS = re.compile(r"[0-9]{1,9}")


def _query_whole_number(value: object) -> object:
    """A whole number of a query string, written in the digits 0-9 only. pydantic's lax integers
    also read "1_0" as 10, and "10.0", "+5" and " 5", while "1e2" was refused: which spellings
    passed was the library's choice, not the API's."""
    if isinstance(value, str) and not _QUERY_DIGITS.fullmatch(value):
        raise _fail("must be a whole number written in the digits 0-9, such as 50")
    return value


def _query_flag(value: object) -> object:
    """A flag of a query string: ``true`` or ``false`` (pydantic also took yes, on, 1, t, y)."""
    if isinstance(value, str) and value not in ("true", "false"):
        raise _fail("must be true or false")
    return value


# Query parameters: a number or a flag as a query string carries it, one spelling each.
QueryInt = Annotated[int, BeforeValidator(_query_whole_number)]
QueryBool = Annotated[bool, BeforeValidator(_query_flag)]

# With a length Field: a string whose length is checked after trimming (spaces are no content).
Trimmed = StringConstraints(strip_whitespace=True)
# Times a few seconds in the past are clock skew between the client and us, not a mistake.
PAST_TOLERANCE = timedelta(seconds=60)


def not_past(value: datetime | None, field: str, now: datetime) -> datetime | None:
    """``value`` unless it is in the past (422 naming ``field``)."""
    if value is not None and value < now - PAST_TOLERANCE:
        raise ValidationFailed(field, "is in the past")
    return value


def checked(value: str | None, field: str, variable: str) -> None:
    """Refuse ``value`` (named ``field``) when it is longer than the template variable it is
    filled into may be (``core.template_vocabulary``, in UTF-16 units; the database holds the
    column to it too)."""
    problem = length_problem(variable, value) if value is not None else None
    if problem is not None:
        raise ValidationFailed(field, problem)


def template_value(variable: str, *then: Callable[[str], str]) -> Any:
    """A trimmed string filled into reminders as ``variable``: at most its maximum length, then
    checked by ``then``."""

    def fits(value: str) -> str:
        problem = length_problem(variable, value)
        if problem is not None:
            raise _fail(problem)
        return value

    return Annotated[
        str,
        Trimmed,
        Field(min_length=1, max_length=max_units(variable)),
        AfterValidator(fits),
        *(AfterValidator(check) for check in then),
    ]


def _person_name(value: str) -> str:
    """A person's name as every way in takes it (:mod:`core.person_names`): direction controls
    with a scope removed, one that shows nothing refused, on one line (spaces collapsed, a
    control character refused: the database refuses it too, migration 20260101019030)."""
    name = clean_name(value)
    problem = name_problem(name) or line_break_problem(name)
    if problem is not None:
        raise _fail(problem)
    return name


NOTHING_VISIBLE = (
    "has no visible character: it is only spaces and invisible characters (zero-width spaces"
    " or joiners, direction marks) or accents and other marks with no letter; type it in letters"
)


def _without_direction_scopes(value: str) -> str:
    """A text filled into messages without direction controls that have a scope (as the
    database stores it, migration 20260101015900): one of them left in reversed the rest of the
    line it was filled into."""
    text = without_direction_scopes(value).strip()
    if not text:
        raise _fail("is only direction controls (U+202A-U+202E, U+2066-U+2069): type the text")
    if not is_visible(text):
        # A clinic named "\u200b" was saved: its reminders came from nobody.
        raise _fail(NOTHING_VISIBLE)
    return text


def directions_closed(value: str) -> str:
    """A text kept as the clinic wrote it: a direction control left open on its line refused,
    as in a template (core.direction_controls), naming the character, the line and its closer.
    Closed ones stay: right-to-left writing needs them."""
    problem = unclosed_direction_control(value)
    if problem is not None:
        raise _fail(problem)
    return value


def written_text(max_length: int, *checks: Callable[[str], str]) -> Any:
    """A trimmed text stored as written (a message's ``text``, a waitlist ``note``, an
    ``external_id``), up to ``max_length`` characters, no direction control left open: a
    U+202E in it reversed the rest of its line wherever it was shown; then ``checks``."""
    return Annotated[
        (
            str,
            Trimmed,
            Field(min_length=1, max_length=max_length),
            AfterValidator(directions_closed),
            *(AfterValidator(check) for check in checks),
        )
    ]


def visible(value: str) -> str:
    """A text that shows something: an ``external_id`` of a zero-width space alone was stored,
    shown blank on the dashboard, and could be typed nowhere (a FHIR ``Patient/<id>`` found it)."""
    if not is_visible(value):
        raise _fail(NOTHING_VISIBLE)
    return value


# An identifier of the clinic's own system (a patient's, an appointment's), a note, and a
# message's text (up to Telegram's limit; SMS splitting is capped by MEDREMIND_SMS_MAX_SEGMENTS).
ExternalId = written_text(100, visible)
Note = written_text(200)
MAX_TEXT_LENGTH = 4096
# Template markup naming a value: Jinja's "{{ patient_name }}" and "{% if %}", WhatsApp's "{{1}}".
_TEMPLATE_MARKUP = re.compile(r"\{\{\s*[A-Za-z0-9_][^{}]*\}\}|\{%.*?%\}", re.DOTALL)


def sendable_text(value: str) -> str:
    """A message's ``text``: something shows, and no template markup (a text is sent as it is).

    Found over the API: ``"Hi {{ patient_name }}"`` was accepted and reached the patient as
    typed, braces and all; a text of a zero-width space only (U+200B) was sent, as an empty SMS.
    """
    visible(value)
    markup = _TEMPLATE_MARKUP.search(value)
    if markup is not None:
        raise _fail(
            f"holds template markup ({markup[0]}), and a `text` is sent as it is: the patient"
            " would read it as typed. To fill in values, save a template with it (PUT"
            " /api/v1/templates/{name}) and send that as `template` (with `variables`); else"
            " write the words themselves"
        )
    return value


def one_line(value: str) -> str:
    """A name filled into one line of a message: no line break or control character in it
    (:mod:`core.one_line`)."""
    problem = line_break_problem(value)
    if problem is not None:
        raise _fail(problem)
    return value


MessageText = written_text(MAX_TEXT_LENGTH, sendable_text)
PatientName = template_value("patient_name", _person_name)
ClinicName = template_value("clinic_name", one_line, _without_direction_scopes)
Location = template_value("location", one_line, _without_direction_scopes)
ClinicianName = template_value("clinician_name", one_line, _without_direction_scopes)


def _iso_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise _fail("must be an ISO 8601 date-time string such as 2026-03-01T08:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _fail("must be an ISO 8601 date-time such as 2026-03-01T08:00:00Z") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _fail("must include a UTC offset, e.g. 2026-03-01T08:00:00Z")
    # The instant's year, not the one written: "9998-12-31T23:59:59-14:00" is in 9999 (UTC) and
    # was stored, answered as 9999-01-01T13:59:59Z, which this same check then refused back
    # (as `from`, or inside a list's cursor).
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError:  # before 0001-01-01 or after 9999-12-31 in UTC
        instant = None
    if instant is None or not 1970 <= instant.year <= 9998:
        raise _fail("is out of range (years 1970 to 9998, in UTC)")
    return parsed


# An aware date-time written as ISO 8601 text (a naive time would be ambiguous across zones; a
# number of seconds is refused rather than guessed at).
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


def _e164(value: str) -> str:
    if not value.startswith("+"):
        raise _fail("must be an E.164 number such as +14155550123")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise _fail("is not a phone number in E.164 form, e.g. +14155550123") from None
    if not phonenumbers.is_valid_number(number):
        raise _fail(invalid_phone_reason(number))
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if formatted != value:
        raise _fail("must be in E.164 form without spaces, e.g. +14155550123")
    return formatted


def invalid_phone_reason(number: phonenumbers.PhoneNumber) -> str:
    """Why a parsed ``number`` is no valid number, and how to write one (it said only "is not a
    valid phone number", leaving the integrator to guess which part was wrong)."""
    code = f"+{number.country_code}"
    found = phonenumbers.is_possible_number_with_reason(number)
    if found == phonenumbers.ValidationResult.TOO_SHORT:
        detail = f"too few digits for country code {code}"
    elif found == phonenumbers.ValidationResult.TOO_LONG:
        detail = f"too many digits for country code {code}"
    else:
        detail = f"no number in use under country code {code} has these digits (check them)"
    return f"is not a valid phone number: {detail}; for example +14155550123"


Phone = Annotated[
    str,
    Field(max_length=20, description="E.164, e.g. +14155550123"),
    AfterValidator(_e164),
]


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise _fail("must be an e-mail address such as name@example.org")
    return value


Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]

# A patient's e-mail as the database stores every contact point's (migration 20260101018040): in
# lower case, one mailbox whatever its case, so a look-up by it finds the address another record
# holds. The clinic's own contact_email stays as the clinic writes it (patients read it).
ContactEmail = Annotated[Email, AfterValidator(str.lower)]


# tzdata's legacy EST and MST are fixed offsets: no summer time, unlike the regions they are named
# after (a patient given EST for New York is reminded an hour late from March to November). The
# bot refuses such abbreviations too (bot.parsing.ZONE_ABBREVIATIONS).
_FIXED_REGION_NAMES = {
    "EST": "America/New_York (or America/Panama for UTC-5 all year)",
    "MST": "America/Denver (or America/Phoenix for UTC-7 all year)",
}


# tzdata's fixed offsets named the POSIX way round: Etc/GMT+5 is five hours *behind* UTC. One
# sent for UTC+5 reminded ten hours off, and none keeps a place's summer time; the bot takes
# none of them either (bot.parsing._zone_index).
_ETC_OFFSET = re.compile(r"Etc/GMT([+-])(\d{1,2})")
# "Factory" is tzdata's "local time unknown" (abbreviation "-00"): stored as CLDR names it,
# "Etc/Unknown", which no zone database loads, so the planner skipped the patient's schedules.
_NO_PLACE = "Factory"


def _fixed_offset(value: str) -> str | None:
    """The refusal of an ``Etc/GMT+N`` zone (N not 0), naming its real offset, or None."""
    match = _ETC_OFFSET.fullmatch(value)
    if match is None or int(match[2]) == 0:
        return None
    behind = match[1] == "+"
    return (
        f"is a fixed offset, UTC{'-' if behind else '+'}{int(match[2]):02d}:00 (Etc/GMT names"
        f" count the other way round: {value} is {int(match[2])} hours"
        f" {'behind' if behind else 'ahead of'} UTC), with no summer time; use the zone of the"
        " patient's place, such as Europe/Berlin or America/Bogota"
    )


def _timezone(value: str) -> str:
    if not value or len(value) > 64 or value != value.strip():
        raise _fail("must be an IANA timezone such as Europe/Berlin")
    if value in _FIXED_REGION_NAMES:
        raise _fail(
            f"is a fixed offset with no summer time; use a place's zone, such as "
            f"{_FIXED_REGION_NAMES[value]}"
        )
    fixed = _fixed_offset(value)
    if fixed is not None:
        raise _fail(fixed)
    if value == _NO_PLACE:
        raise _fail(
            "is the zone database's placeholder for an unknown local time, not a place; use the"
            " zone of the patient's place, such as Europe/Berlin"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        meant = _zones_by_folded_name().get(value.casefold())
        if meant is not None:  # "europe/madrid", "AMERICA/NEW_YORK": names are case-sensitive
            raise _fail(
                f"is not a known IANA timezone: names are case-sensitive; did you mean {meant}?"
            ) from None
        raise _fail("is not a known IANA timezone; use a name such as Europe/Berlin") from None
    if value not in _iana_zones():
        # A file of the machine's zone folder that is no zone of the IANA database
        # ("localtime", "posixrules", "posix/...", "right/..."): Python opens it, PostgreSQL
        # knows no such zone, and every statement that converts a time in it would fail.
        raise _fail("is not an IANA timezone name; use a name such as Europe/Berlin")
    # Stored under its current IANA name, as the dashboard stores it: "US/Eastern" is
    # America/New_York (core.zone_names).
    return canonical_zone(value)


@functools.cache
def _iana_zones() -> frozenset[str]:
    """The IANA database's zone names (what PostgreSQL knows too)."""
    return frozenset(available_timezones() - {"localtime", "posixrules"})


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    """Each IANA zone under its case-folded name, for the hint of a name in the wrong case."""
    return {name.casefold(): name for name in sorted(_iana_zones())}


Timezone = Annotated[
    str,
    Field(
        description=(
            "IANA name such as Europe/Berlin; stored and returned under its current name"
            " (US/Eastern as America/New_York, Asia/Calcutta as Asia/Kolkata, Etc/UTC as UTC)"
        )
    ),
    AfterValidator(_timezone),
]


def _language_tag(value: str) -> str:
    if not _LANGUAGE_TAG.match(value):
        raise _fail("must be a language tag such as en or es-MX")
    return value


# Any well-formed tag: for what describes a stored row (a template version a clinic saved
# earlier), not a language a patient is to be written in.
LanguageTag = Annotated[
    str, Field(description="Language tag such as en or es-MX"), AfterValidator(_language_tag)
]


def _locale(value: str) -> str:
    # Only the languages the bot has texts in (bot.locale_format.LOCALES, the product's one
    # list): a patient of another locale would get English while the clinic believes otherwise.
    if value in LOCALES:
        return value
    known = ", ".join(LOCALES)
    language = re.split(r"[-_]", value, maxsplit=1)[0].lower()
    if language in LOCALES:
        raise _fail(f"the bot has no texts for {value[:20]!r}; use {language!r} (one of {known})")
    raise _fail(f"is not a language the bot speaks; use one of {known}")


Locale = Annotated[
    str,
    AfterValidator(_locale),
    WithJsonSchema(
        {"type": "string", "enum": list(LOCALES), "description": "A language the bot speaks"}
    ),
]


def _distinct_channels(value: list[str]) -> list[str]:
    for i, item in enumerate(value):
        if item in value[:i]:
            raise PydanticCustomError("invalid_item", "is listed twice", {"index": i})
    return value


ChannelOrder = Annotated[
    list[PatientChannel],
    Field(min_length=1, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct_channels),
]


def _clock(value: Any) -> time:
    if not isinstance(value, str) or not _CLOCK.fullmatch(value):
        raise _fail("must be a time of day as HH:MM, e.g. 08:30")
    return time(int(value[:2]), int(value[3:]))


# A wall-clock time as HH:MM.
ClockTime = Annotated[
    time,
    BeforeValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}),
]


def clock_text(value: time | None) -> str | None:
    """A time of day as the API writes it (HH:MM)."""
    return None if value is None else value.strftime("%H:%M")


def name_pattern(q: str | None) -> str | None:
    """The LIKE pattern of a search's name fragment (public.patient_matches_search): matched
    literally (LIKE's wildcards escaped) and composed as names are stored
    (core.person_names.without_direction_scopes), so "Rene\u0301e" finds "Renée"; the query
    folds it (public.search_fold), so "Lucia" finds "Lucía" too."""
    if q is None:
        return None
    name = unicodedata.normalize("NFC", q)
    return name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
