"""FHIR R4 ``Timing`` elements, one at a time: JSON shapes and primitive values to Python values.

What :mod:`scheduler.fhir_timing` and :mod:`scheduler.fhir_patterns` read a ``Timing`` with: the
allowed and refused element names, times of day, weekdays, bounds (``boundsPeriod``,
``boundsDuration``), dates and dateTimes, numbers, and clock arithmetic on times of day. Every
refusal is a :class:`TimingError` naming the FHIR path of the element at fault; nothing here knows
what a schedule means.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_SECONDS = 24 * 3600
# The most dose times a day a schedule holds (reminder_schedules.times_of_day's check): one an
# hour. A longer timeOfDay reached the database and answered 500.
MAX_DOSES_PER_DAY = 24
_UCUM_SYSTEM = "http://unitsofmeasure.org"
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index + 1 = ISO weekday
_TIME_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,6})?")
_DATE_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
_DATETIME_RE = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))"
)

# The dates a schedule may start or end on. asyncpg writes date.min and date.max as -infinity and
# infinity (the dashboard showed "from -infinity"), the planner works in UTC datetimes a day
# either side of a local date, and the API's date-times stop at the year 9998 too; a medicine
# taken since before 1900 is a mistake in the record, not a course to remind of.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(9998, 12, 31)
DATE_RANGE = f"from {FIRST_DATE} to {LAST_DATE}"

TIMING_KEYS = frozenset({"id", "extension", "modifierExtension", "event", "repeat", "code"})
REPEAT_KEYS = frozenset(
    {
        "id",
        "extension",
        "modifierExtension",
        "boundsDuration",
        "boundsRange",
        "boundsPeriod",
        "count",
        "countMax",
        "duration",
        "durationMax",
        "durationUnit",
        "frequency",
        "frequencyMax",
        "period",
        "periodMax",
        "periodUnit",
        "dayOfWeek",
        "timeOfDay",
        "when",
        "offset",
    }
)
# Elements that are valid FHIR but have no counterpart in a Recurrence.
_REFUSED: dict[str, str] = {
    "Timing.modifierExtension": "modifier extensions change the meaning and are not supported",
    "Timing.event": "explicit event lists are not supported; use repeat",
    "Timing.repeat.modifierExtension": "modifier extensions change the meaning and are not "
    "supported",
    "Timing.repeat.boundsRange": "is not supported; use boundsPeriod or boundsDuration",
    "Timing.repeat.countMax": "ranges of counts are not supported; give count only",
    "Timing.repeat.duration": "durations of administration are not supported",
    "Timing.repeat.durationMax": "durations of administration are not supported",
    "Timing.repeat.durationUnit": "durations of administration are not supported",
    "Timing.repeat.frequencyMax": "ranges of frequency are not supported; give frequency only",
    "Timing.repeat.periodMax": "ranges of period are not supported; give period only",
}


class TimingError(ValueError):
    """A FHIR ``Timing`` that cannot be represented as a ``Recurrence``.

    ``field`` is the FHIR path of the element at fault (``Timing.repeat.periodUnit``) and
    ``reason`` says what is wrong; the message is ``"{field}: {reason}"``.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[TimingError], tuple[str, str]]:
        return type(self), (self.field, self.reason)


# -- element parsers ----------------------------------------------------------------------------


def check_keys(obj: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in obj:
        if not isinstance(key, str):
            raise TimingError(where, f"has a non-string key {key!r}")
        path = f"{where}.{key}"
        if path in _REFUSED:
            raise TimingError(path, _REFUSED[path])
        # "_name" siblings carry ids and extensions of primitive values and never change meaning.
        if key not in allowed and not (key.startswith("_") and key[1:] in allowed):
            raise TimingError(path, "is not an element of FHIR R4 Timing")


def parse_times_of_day(value: object) -> tuple[time, ...]:
    path = "Timing.repeat.timeOfDay"
    if not isinstance(value, list) or not value:
        raise TimingError(path, "must be a non-empty list of hh:mm:ss times")
    result = []
    for item in value:
        if not isinstance(item, str) or not _TIME_RE.fullmatch(item):
            raise TimingError(path, f"{item!r} is not a FHIR time (hh:mm:ss)")
        result.append(time.fromisoformat(_pad_fraction(item)))
    times = tuple(sorted(set(result)))
    if len(times) > MAX_DOSES_PER_DAY:
        raise TimingError(
            path,
            f"{len(times)} different times is more than {MAX_DOSES_PER_DAY} doses a day, "
            "the most a schedule holds (one an hour)",
        )
    return times


def parse_days(value: object) -> frozenset[int]:
    path = "Timing.repeat.dayOfWeek"
    if not isinstance(value, list) or not value:
        raise TimingError(path, "must be a non-empty list of mon..sun")
    days = set()
    for item in value:
        if item not in DAY_CODES:
            raise TimingError(path, f"{item!r} is not one of {', '.join(DAY_CODES)}")
        days.add(DAY_CODES.index(item) + 1)
    return frozenset(days)


def bounds(
    repeat: Mapping[str, Any], zone: ZoneInfo, default_start: date
) -> tuple[date, date | None]:
    period, duration = repeat.get("boundsPeriod"), repeat.get("boundsDuration")
    if period is not None and duration is not None:
        raise TimingError("Timing.repeat.boundsDuration", "cannot be combined with boundsPeriod")
    start, end = default_start, None
    if period is not None:
        if not isinstance(period, Mapping):
            raise TimingError("Timing.repeat.boundsPeriod", "must be a Period object")
        for key in period:
            if key not in ("start", "end", "id", "extension", "_start", "_end"):
                raise TimingError(f"Timing.repeat.boundsPeriod.{key}", "is not a Period element")
        if period.get("start") is not None:
            start = _parse_date(period["start"], zone, "Timing.repeat.boundsPeriod.start")
        if period.get("end") is not None:
            end = _parse_date(period["end"], zone, "Timing.repeat.boundsPeriod.end")
            if end < start:
                raise TimingError(
                    "Timing.repeat.boundsPeriod.end", f"{end} is before the start {start}"
                )
    if duration is not None:
        end = _duration_end(duration, start)
    return start, end


def _duration_end(duration: object, start: date) -> date:
    path = "Timing.repeat.boundsDuration"
    if not isinstance(duration, Mapping):
        raise TimingError(path, "must be a Duration object")
    if "comparator" in duration:
        raise TimingError(f"{path}.comparator", "is not supported; give an exact duration")
    system = duration.get("system")
    if system is not None and system != _UCUM_SYSTEM:
        raise TimingError(f"{path}.system", f"must be {_UCUM_SYSTEM}")
    unit = duration.get("code", duration.get("unit"))
    units = {"d": "d", "day": "d", "days": "d", "wk": "wk", "week": "wk", "weeks": "wk"}
    units |= {"mo": "mo", "month": "mo", "months": "mo"}
    if not isinstance(unit, str) or unit.lower() not in units:
        raise TimingError(f"{path}.code", f"{unit!r} is not supported; use d, wk or mo")
    amount = whole(positive_decimal(duration.get("value"), f"{path}.value"), f"{path}.value", unit)
    unit = units[unit.lower()]
    # Bounds are inclusive dates, so "10 days from the 1st" ends on the 10th.
    try:
        if unit == "mo":
            end = _add_months(start, amount) - timedelta(days=1)
        else:
            end = start + timedelta(days=amount * (7 if unit == "wk" else 1) - 1)
    except (OverflowError, ValueError):
        end = None
    if end is None or end > LAST_DATE:
        raise TimingError(
            f"{path}.value",
            f"ends after {LAST_DATE}; a schedule's dates run "
            f"{DATE_RANGE} (leave the bounds out for a schedule with no end)",
        )
    return end


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _parse_date(value: object, zone: ZoneInfo, path: str) -> date:
    """The local date of a FHIR date or dateTime, within ``FIRST_DATE``..``LAST_DATE``."""
    day = _local_date(value, zone, path)
    if day is None or not FIRST_DATE <= day <= LAST_DATE:
        raise TimingError(
            path,
            f"{value!r} is out of range: a schedule's dates run {DATE_RANGE} "
            "(leave end out for a schedule with no end)",
        )
    return day


def _local_date(value: object, zone: ZoneInfo, path: str) -> date | None:
    # None for an instant whose local date is before the year 1 or after 9999.
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise TimingError(path, f"{value!r} is not a calendar date") from exc
    if isinstance(value, str) and _DATETIME_RE.fullmatch(value):
        try:
            instant = datetime.fromisoformat(_pad_fraction(value))
        except ValueError as exc:
            raise TimingError(path, f"{value!r} is not a valid dateTime") from exc
        # A Recurrence is bounded by local dates: the instant counts for its date in the
        # patient's zone.
        try:
            return instant.astimezone(zone).date()
        except OverflowError:
            return None
    raise TimingError(
        path, f"{value!r} is not a full date (YYYY-MM-DD) or dateTime with a timezone"
    )


def positive_int(value: object, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TimingError(path, f"must be a positive integer, got {value!r}")
    return value


def unsigned_int(value: object, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TimingError(path, f"must be a non-negative integer of minutes, got {value!r}")
    return value


def positive_decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TimingError(path, f"must be a positive number, got {value!r}")
    try:
        # Through str so that 0.1 means one tenth, as written in the JSON.
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise TimingError(path, f"must be a positive number, got {value!r}") from exc
    if not amount.is_finite() or amount <= 0:
        raise TimingError(path, f"must be a positive number, got {value!r}")
    return amount


def whole(amount: Decimal, path: str, unit: str) -> int:
    if amount != amount.to_integral_value():
        raise TimingError(path, f"{amount} is not a whole number of {unit}")
    return int(amount)


def parse_zone(key: object) -> ZoneInfo:
    if not isinstance(key, str) or not key:
        raise ValueError(f"timezone: must be an IANA timezone name, got {key!r}")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone: unknown IANA timezone {key!r}") from exc


# -- clock arithmetic ---------------------------------------------------------------------------


def seconds_of(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def shift_time(t: time, seconds: int) -> time:
    """``t`` moved by ``seconds``, wrapping around midnight (the dose stays on its date)."""
    total = (seconds_of(t) + seconds) % DAY_SECONDS
    return time(total // 3600, total // 60 % 60, total % 60, t.microsecond)


def time_from_minutes(total: int) -> time:
    return time(total // 60, total % 60)


def step_text(seconds: int) -> str:
    """A time between doses as a clinician reads it: 36000 is "10 h", 5400 "1.5 h", 1200
    "20 minutes", 1000 "16 min 40 s".

    ``normalize`` drops a fraction's trailing zeros only (stripping "0" off the text made 10 h
    read "1", so a refusal of every 10 h told the clinician every 1 h does not fit a day). Hours
    only where they have at most one decimal: three doses an hour read "every
    0.3333333333333333333333333333 h".
    """
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{(Decimal(seconds) / 3600).normalize():f} h"
    minutes, rest = divmod(seconds, 60)
    if rest == 0:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _pad_fraction(text: str) -> str:
    """Python 3.11 ``fromisoformat`` wants 3 or 6 fraction digits; FHIR allows any number."""
    match = re.search(r"\.(\d+)", text)
    if match is None:
        return text
    digits = (match.group(1) + "000000")[:6]
    return text[: match.start(1)] + digits + text[match.end(1) :]


def format_time(t: time) -> str:
    text = t.strftime("%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text


__all__ = [
    "DAY_CODES",
    "DAY_SECONDS",
    "MAX_DOSES_PER_DAY",
    "REPEAT_KEYS",
    "TIMING_KEYS",
    "TimingError",
    "bounds",
    "check_keys",
    "format_time",
    "parse_days",
    "parse_times_of_day",
    "parse_zone",
    "positive_decimal",
    "positive_int",
    "seconds_of",
    "shift_time",
    "step_text",
    "time_from_minutes",
    "unsigned_int",
    "whole",
]
