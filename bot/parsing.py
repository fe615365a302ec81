"""Forgiving parsers for what patients type: times, days, dates, numbers, timezones, phones.

Pure functions with no clock and no database: each returns ``None`` when the input cannot be
understood, so the caller reprompts and keeps the dialog where it was.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

from bot.spoken_times import FRACTION_AFTER_Y, spoken
from core import near_miss
from core.locales import LOCALES
from core.one_line import line_break_problem
from core.person_names import clean_name, name_problem, without_direction_scopes
from core.template_measure import utf16_units
from core.template_vocabulary import max_units
from core.zone_labels import exemplar_city
from core.zone_names import canonical_zone

# Quick picks offered as buttons; typed words map to the same times.
QUICK_TIMES: dict[str, time] = {
    "morning": time(8, 0),
    "noon": time(12, 0),
    "evening": time(18, 0),
    "bedtime": time(22, 0),
}
_TIME_WORDS: dict[str, str] = {
    "morning": "morning",
    "mañana": "morning",
    "manana": "morning",
    "noon": "noon",
    "midday": "noon",
    "mediodia": "noon",
    "mediodía": "noon",
    "evening": "evening",
    "tarde": "evening",
    "bedtime": "bedtime",
    "night": "bedtime",
    "noche": "bedtime",
}
# Midnight by name (not a quick pick: no button offers it), as "noon" is said.
_MIDNIGHT_WORDS = frozenset({"midnight", "medianoche"})
_TIME_RE = re.compile(
    r"^(?:at\s+|a\s+las?\s+|las?\s+)?(?P<h>\d{1,2})(?:\s*[:.h]\s*(?P<m>\d{2}))?"
    r"\s*(?:(?P<ap>a\.?\s*m\.?|p\.?\s*m\.?|am|pm)|(?:h|hs|hrs?|horas?|o'?clock)\.?"
    r"|(?P<part>(?:de|del|in|at)\s+(?:la\s+|the\s+)?\w+))?$"
)
# The part of the day a time is said with ("8 de la tarde", "9 in the evening", as Spanish and
# English speakers say times without a 24-hour clock: "I couldn't read that time" before), and
# the hours (1-12 as said) each part reads, as the 24-hour hour. An hour a part does not take
# ("3 de la noche") is not guessed.
_DAY_PARTS: dict[str, dict[int, int]] = {
    "morning": {h: h for h in range(1, 12)},
    "afternoon": {12: 12} | {h: h + 12 for h in range(1, 7)},
    # Spanish "tarde" runs into the evening: "8 de la tarde" is 20:00.
    "tarde": {12: 12} | {h: h + 12 for h in range(1, 10)},
    "evening": {h: h + 12 for h in range(5, 12)},
    "night": {12: 0} | {h: h + 12 for h in range(7, 12)},
    "small_hours": {12: 0} | {h: h for h in range(1, 7)},
}
_PART_WORDS: dict[str, str] = {
    "de la manana": "morning", "in the morning": "morning",
    "de la tarde": "tarde", "in the afternoon": "afternoon",
    "in the evening": "evening",
    "de la noche": "night", "at night": "night",
    "de la madrugada": "small_hours",
}  # fmt: skip

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_WORDS: dict[str, int] = {
    "mon": 1, "monday": 1, "lun": 1, "lunes": 1,
    "tue": 2, "tues": 2, "tuesday": 2, "mar": 2, "martes": 2,
    "wed": 3, "wednesday": 3, "mie": 3, "mié": 3, "miercoles": 3, "miércoles": 3,
    "thu": 4, "thur": 4, "thurs": 4, "thursday": 4, "jue": 4, "jueves": 4,
    "fri": 5, "friday": 5, "vie": 5, "viernes": 5,
    "sat": 6, "saturday": 6, "sab": 6, "sáb": 6, "sabado": 6, "sábado": 6,
    "sun": 7, "sunday": 7, "dom": 7, "domingo": 7,
}  # fmt: skip

# Zones offered as buttons (named by their city in the patient's language, Turn.zone), and
# common names that are not the last part of an IANA name.
CITY_ZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/Bogota",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Berlin",
)
_CITY_ALIASES: dict[str, str] = {
    "ciudad de mexico": "America/Mexico_City",
    "cdmx": "America/Mexico_City",
    "nueva york": "America/New_York",
    "nyc": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "miami": "America/New_York",
    "boston": "America/New_York",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "barcelona": "Europe/Madrid",
    "sevilla": "Europe/Madrid",
    "valencia": "Europe/Madrid",
    "londres": "Europe/London",
    "paris": "Europe/Paris",
    "munich": "Europe/Berlin",
    "utc": "UTC",
}

# Time zone abbreviations as people type them. None says when the clocks change: tzdata's EST and
# MST are fixed offsets (a New Yorker who typed EST in winter, and confirmed the time it showed,
# got every reminder an hour late all summer), GMT is not London's summer time, CST is Chicago's or
# China's. They are refused with a request for a city. UTC stays (_CITY_ALIASES): it means UTC.
ZONE_ABBREVIATIONS = frozenset(
    {
        "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt", "akst", "akdt", "hst", "hdt",
        "ast", "adt", "nst", "ndt", "gmt", "bst", "ist", "wet", "west", "cet", "cest", "met",
        "mest", "eet", "eest", "msk", "jst", "kst", "aest", "aedt", "acst", "acdt", "awst",
        "nzst", "nzdt",
    }
)  # fmt: skip

# A person's name (the patient's, a caregiver's) goes into reminders: at most what the template
# length check assumes (core.template_vocabulary), counted in UTF-16 units like the database.
MAX_NAME_LENGTH = max_units("patient_name")
MAX_FIELD_LENGTH = 200
MAX_MEDICINE_NAME = max_units("medicine_name")
MAX_DOSE = max_units("dose_text")


def fold(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: for matching words, never for storing."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def parse_time(text: str) -> time | None:
    """``8:00``, ``20:30``, ``8pm``, ``8.30``, ``8 h``, ``20h``, ``a las 9``, ``8 de la tarde``,
    ``morning``, ``midnight``, and an hour said with a fraction, ``8 y media``, ``la una menos
    cuarto``, ``quarter to 9 pm`` (bot.spoken_times): a time of day, or ``None``."""
    raw = text.strip().lower()
    if raw in _TIME_WORDS:
        return QUICK_TIMES[_TIME_WORDS[raw]]
    folded = fold(raw)
    if folded in _TIME_WORDS:
        return QUICK_TIMES[_TIME_WORDS[folded]]
    if folded in _MIDNIGHT_WORDS:
        return time(0, 0)
    clock, minutes = spoken(folded)
    said = _clock_time(clock)
    if said is None or not minutes:
        return said
    if said.minute:
        return None  # "8:30 y media"
    return time(*divmod((said.hour * 60 + minutes) % (24 * 60), 60))


def _clock_time(raw: str) -> time | None:
    """A time typed by its clock: ``8:00``, ``8pm``, ``a las 9``, ``8 de la tarde``."""
    match = _TIME_RE.match(raw)
    if not match:
        return None
    hour = int(match["h"])
    minute = int(match["m"] or 0)
    if match["part"]:
        part = _PART_WORDS.get(fold(" ".join(match["part"].split())))
        said = _DAY_PARTS[part].get(hour) if part is not None else None
        return None if said is None or minute > 59 else time(said, minute)
    ampm = (match["ap"] or "").replace(".", "").replace(" ", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_times(text: str) -> list[time] | None:
    """Several times separated by commas, ``and``/``y`` or spaces; ``None`` if any part is bad."""
    parts = [
        p for p in re.split(rf"\s*(?:,|;|\band\b|\by\b{FRACTION_AFTER_Y})\s*", fold(text)) if p
    ]
    if len(parts) == 1 and " " in parts[0] and parse_time(parts[0]) is None:
        parts = parts[0].split()
    if not parts:
        return None
    times = [parse_time(p) for p in parts]
    if any(t is None for t in times):
        return None
    return sorted({t for t in times if t is not None})


def parse_weekdays(text: str) -> list[int] | None:
    """``mon wed fri``, ``lunes, jueves``: ISO weekday numbers, or ``None``."""
    words = [w for w in re.split(r"[\s,;/]+|\band\b|\by\b", fold(text)) if w]
    if not words:
        return None
    days: set[int] = set()
    for word in words:
        day = _DAY_WORDS.get(word)
        if day is None:
            return None
        days.add(day)
    return sorted(days)


def parse_int(text: str, *, low: int, high: int) -> int | None:
    """A whole number within ``[low, high]``, or ``None``."""
    raw = text.strip()
    if not re.fullmatch(r"\d{1,6}", raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def parse_date(text: str, *, today: date, month_first: bool = False) -> date | None:
    """The date ``text`` means, the region's reading when it could be either (see
    :func:`date_readings`), or ``None``."""
    readings = date_readings(text, today=today, month_first=month_first)
    return readings[0] if readings else None


_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?")


def date_readings(text: str, *, today: date, month_first: bool) -> list[date]:
    """The dates ``text`` can mean, the region's reading first: one for "today", "tomorrow"
    (en/es), ISO ``2026-03-01`` and a number pair only one way round can be ("13/1"); two for
    "3/1"; none for text that is no date. A date without a year that has passed means next
    year's."""
    raw = fold(text)
    if raw in {"today", "hoy"}:
        return [today]
    if raw in {"tomorrow", "manana"}:
        return [today + timedelta(days=1)]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            return [date.fromisoformat(raw)]
        except ValueError:
            return []
    match = _NUMERIC_DATE.fullmatch(raw)
    if not match:
        return []
    first, second = int(match[1]), int(match[2])
    pairs = [(first, second), (second, first)]  # (month, day)
    if not month_first:
        pairs.reverse()
    readings: list[date] = []
    for month, day in pairs:
        reading = _calendar_date(month, day, match[3], today)
        if reading is not None and reading not in readings:
            readings.append(reading)
    return readings


# Words before a weekday that add nothing to which one is meant: "next Monday", "el próximo lunes".
_WEEKDAY_LEAD = re.compile(r"^(?:(?:the\s+)?next|this|coming|(?:el\s+)?proximo|el|este)\s+")
_WEEKDAY_TAIL = re.compile(r"\s+que\s+viene$")  # "el lunes que viene"


def weekday_ahead(text: str, *, today: date) -> date | None:
    """The next day after ``today`` that is the weekday ``text`` names ("monday", "next Fri",
    "el lunes", "el próximo sábado"; today's weekday is a week on), or ``None``."""
    word = _WEEKDAY_TAIL.sub("", _WEEKDAY_LEAD.sub("", fold(text).strip().rstrip(".!")))
    weekday = _DAY_WORDS.get(word)
    if weekday is None:
        return None
    return today + timedelta(days=(weekday - today.isoweekday() - 1) % 7 + 1)


def _calendar_date(month: int, day: int, year_text: str | None, today: date) -> date | None:
    """``day``/``month`` in the year typed, or without one the next such day from ``today``
    on: this year's, or next year's once it has passed or where this year has no such day (29
    February typed in December 2027 is 2028's: it read as no date)."""
    if year_text:
        year = int(year_text)
        try:
            return date(year + 2000 if year < 100 else year, month, day)
        except ValueError:
            return None
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


# Files of the zone folder that name no place ("localtime" is the machine's own zone, which
# PostgreSQL does not know; "Factory" says "set a time zone").
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_index() -> dict[str, str]:
    """Folded IANA names and their last parts ("new york") -> IANA name."""
    index: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if name.startswith(("Etc/", "SystemV/", "posix/", "right/")) or name in _NOT_ZONES:
            continue
        index.setdefault(fold(name), name)
        city = fold(name.rsplit("/", 1)[-1].replace("_", " "))
        index.setdefault(city, name)
    return index


@cache
def _city_index() -> dict[str, str]:
    """The cities the bot names zones by, in each of its languages, folded -> IANA name (CLDR's
    exemplar city, core.zone_labels: "tokio", "londres", "ciudad de mexico"). The bot shows
    a Spanish patient "Tokio" for Asia/Tokyo; typed back, it was "No conozco ese lugar"."""
    index: dict[str, str] = {}
    for name in sorted(set(_zone_index().values())):
        for locale in LOCALES:
            city = exemplar_city(name, locale)
            if city is not None:
                index.setdefault(fold(city), name)
    return index


def parse_timezone(text: str) -> str | None:
    """An IANA name (any case) or a city name (the zone's, or as the bot names it in one of its
    languages): the IANA timezone, or ``None``."""
    raw = fold(text)
    if not raw or len(raw) > 64:
        return None
    if raw in _CITY_ALIASES:
        return _CITY_ALIASES[raw]
    if raw in ZONE_ABBREVIATIONS:
        return None
    candidate = (
        _zone_index().get(raw) or _zone_index().get(raw.replace("_", " ")) or _city_index().get(raw)
    )
    if candidate is None:
        return None
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return canonical_zone(candidate)  # as the API and the dashboard store it


# A guess at a place is offered only this close (difflib's ratio: "madird" -> "madrid" 0.83,
# "nueva yrok" 0.9), and only for a word this long: at the API's 0.6 "hello" was Hermosillo.
NEAR_ZONE_CUTOFF = 0.75
NEAR_ZONE_MIN_LETTERS = 4


def near_timezone(text: str) -> str | None:
    """The zone a misspelt city or zone probably names ("madird" -> Europe/Madrid, "Nueva Yrok"
    -> America/New_York), or ``None``: the closest of the names :func:`parse_timezone` knows
    (:func:`core.near_miss.close_matches`). Only a guess, to be offered, never taken as said."""
    raw = fold(text)
    if not raw or len(raw) > 64 or raw in ZONE_ABBREVIATIONS or parse_timezone(text) is not None:
        return None
    if len(raw) < NEAR_ZONE_MIN_LETTERS:
        return None
    found = near_miss.close_matches(raw, _near_names(), at_most=1, cutoff=NEAR_ZONE_CUTOFF)
    return parse_timezone(found[0]) if found else None


@cache
def _near_names() -> frozenset[str]:
    """The folded city names :func:`parse_timezone` takes: not full IANA names (a city is what
    a patient types), nor the last parts of old links ("Canada/Atlantic": "Atlantis" was offered
    Halifax), nor the abbreviations it refuses."""
    cities = (k for k, v in _zone_index().items() if "/" not in k and canonical_zone(v) == v)
    names = {*_CITY_ALIASES, *_city_index(), *cities}
    return frozenset(names - ZONE_ABBREVIATIONS)


def zone_abbreviation(text: str) -> str | None:
    """The time zone abbreviation ``text`` is, in capitals ("EST"), or ``None``."""
    raw = fold(text)
    return raw.upper() if raw in ZONE_ABBREVIATIONS else None


@cache
def _finder() -> object:
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def timezone_at(latitude: float, longitude: float) -> str | None:
    """The IANA timezone at a shared location (``timezonefinder``), or ``None`` at sea."""
    finder = _finder()
    name = finder.timezone_at(lat=latitude, lng=longitude)  # type: ignore[attr-defined]
    return str(name) if name else None


def parse_phone(text: str, *, default_region: str | None = None) -> str | None:
    """A phone number in E.164 (``+34600111222``), or ``None`` if it is not a valid number."""
    raw = text.strip()
    if not raw or len(raw) > 32:
        return None
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_name(text: str) -> str | None:
    """A display name: 1 to :data:`MAX_NAME_LENGTH` characters with a letter, spaces tidied,
    that shows (the rule for every person's name, :mod:`core.person_names`: direction controls
    with a scope removed, a name only of invisible characters refused), on one line: typed line
    breaks are spaces, another control character refuses it (:func:`has_control_character`)."""
    name = clean_name(text)
    if not name or utf16_units(name) > MAX_NAME_LENGTH or name.startswith("/"):
        return None
    if name_problem(name) is not None or not any(ch.isalpha() for ch in name):
        return None
    return None if has_control_character(name) else name


def name_refusal(text: str) -> str:
    """The text key saying why :func:`parse_name` refused ``text``: ``invisible_name`` for a
    name that shows nothing (a letter among them may be a blank Hangul filler),
    ``control_name`` for one holding a control character, else ``bad_name``."""
    if not text.strip():
        return "bad_name"
    name = clean_name(text)  # empty: only direction controls were typed
    if not name or name_problem(name) is not None:
        return "invisible_name"
    return "control_name" if has_control_character(name) else "bad_name"


def parse_free_field(text: str, *, max_length: int = MAX_FIELD_LENGTH) -> str | None:
    """A medicine name or dose (or a place): non-empty, not a command, at most ``max_length``
    characters, without direction controls that have a scope (they would reverse the text after
    it in every list and reminder: :func:`core.person_names.without_direction_scopes`)."""
    value = " ".join(without_direction_scopes(text).split())
    if not value or utf16_units(value) > max_length or value.startswith("/"):
        return None
    if not any(ch.isalnum() for ch in value) or has_control_character(value):
        return None
    return value


def has_control_character(text: str) -> bool:
    """Whether ``text`` holds a control character that is not a space once a field's spaces
    are collapsed (BEL, ESC, a C1 control: pasted from another program). Such a name or dose
    prints nothing or garbage in a reminder, and the database refuses it in a medicine's name and
    dose and a person's name (:mod:`core.one_line`, migrations 20260101019020 and 019030); typed
    line breaks are spaces."""
    return line_break_problem(" ".join(text.split())) is not None
