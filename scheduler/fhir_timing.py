"""FHIR R4 ``Timing`` (JSON shape, as plain dicts) to and from ``Recurrence``.

Import accepts the subset of ``Timing`` that a reminder schedule can represent exactly and
refuses everything else with ``TimingError``, whose message starts with the FHIR path of the
element at fault, e.g. ``Timing.repeat.periodUnit: 'mo' is not supported; use d or wk``.
Guessing at a medication schedule is worse than asking the clinician to restate it.

Supported: ``repeat.frequency`` / ``period`` / ``periodUnit`` (h, d, wk), ``timeOfDay``,
``dayOfWeek``, ``when`` (resolved with the patient's wake, meal and sleep times), ``offset``,
``boundsPeriod``, ``boundsDuration`` (d, wk, mo), ``count``, and ``code`` with the common
abbreviations (QD, QOD, BID, TID, QID, AM, PM, HS/BED, WK, Q1H..Q12H).

Export writes every ``Recurrence`` as explicit ``timeOfDay`` values with ``frequency``/``period``
in days, ``dayOfWeek``, ``boundsPeriod`` and ``count``, so that Timing -> Recurrence -> Timing ->
Recurrence yields equal recurrences. A ``Timing`` carries no timezone: the patient's zone is
passed in separately and is not exported.

Errors::

    ValueError
     └── TimingError(field, reason)   the Timing cannot be represented; ``field`` is its FHIR path
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.recurrence import Recurrence

__all__ = [
    "DEFAULT_DAY_TIMES",
    "PatientDayTimes",
    "TimingError",
    "recurrence_from_timing",
    "timing_from_recurrence",
]

# Minutes before a meal for AC* and after it for PC* when the Timing gives no offset: "before
# food" reminders at the meal itself would come too late to take the dose before eating.
DEFAULT_AC_OFFSET_MIN = 30
DEFAULT_PC_OFFSET_MIN = 30
# Fixed clock times of the frequency abbreviations (BID, TID, QID and N-per-day without times):
# N doses spread evenly from 08:00 to 20:00, which gives the customary 08/20, 08/14/20, 08/12/16/20.
_SPREAD_FIRST_MIN = 8 * 60
_SPREAD_SPAN_MIN = 12 * 60
_MAX_DOSES_PER_DAY = 24
_DAY_SECONDS = 24 * 3600

_GTS_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
_UCUM_SYSTEM = "http://unitsofmeasure.org"
_DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index + 1 = ISO weekday
_TIME_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,6})?")
_DATE_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
_DATETIME_RE = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))"
)

_TIMING_KEYS = frozenset({"id", "extension", "modifierExtension", "event", "repeat", "code"})
_REPEAT_KEYS = frozenset(
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


@dataclass(frozen=True, slots=True)
class PatientDayTimes:
    """A patient's daily routine, used to resolve ``Timing.repeat.when`` codes to clock times.

    Derived events (defaults in brackets): MORN = breakfast [08:00], MORN.early = wake [07:00],
    MORN.late = breakfast + 2 h [10:00], NOON = 12:00, AFT.early = lunch + 1.5 h [14:00],
    AFT = midway lunch..dinner [15:30], AFT.late = dinner - 1.5 h [17:00], EVE.early = dinner
    [18:30], EVE = sleep - 2 h [20:00], EVE.late = sleep - 1 h [21:00], NIGHT, HS and PHS = sleep
    [22:00], WAKE = wake, C/AC/PC = the three meals.
    """

    wake: time = time(7, 0)
    breakfast: time = time(8, 0)
    lunch: time = time(12, 30)
    dinner: time = time(18, 30)
    sleep: time = time(22, 0)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{f.name}: must be a naive datetime.time, got {value!r}")


DEFAULT_DAY_TIMES = PatientDayTimes()


def recurrence_from_timing(
    timing: Mapping[str, Any],
    *,
    timezone: str,
    start_date: date,
    patient_times: PatientDayTimes = DEFAULT_DAY_TIMES,
) -> Recurrence:
    """Build a ``Recurrence`` from a FHIR R4 ``Timing`` given as parsed JSON.

    ``timezone`` is the patient's IANA zone (a Timing has none); ``start_date`` is used when the
    Timing has no ``boundsPeriod.start``; ``patient_times`` resolves ``when`` codes and the
    AM/PM/HS/QxH abbreviations. Where ``repeat`` states a frequency or times and ``code`` is also
    given, ``repeat`` decides the times and ``code`` must agree on the number of doses.

    Raises ``TimingError`` naming the FHIR element that cannot be represented, and plain
    ``ValueError`` naming ``timezone`` or ``start_date`` for bad arguments.
    """
    zone = _zone(timezone)
    if not isinstance(start_date, date) or isinstance(start_date, datetime):
        raise ValueError(f"start_date: must be a date, got {start_date!r}")
    if not isinstance(timing, Mapping):
        raise TimingError("Timing", f"must be a JSON object, got {type(timing).__name__}")
    _check_keys(timing, _TIMING_KEYS, "Timing")
    repeat = timing.get("repeat")
    code = timing.get("code")
    if repeat is None and code is None:
        raise TimingError("Timing", "needs repeat or code to describe when doses are due")
    if repeat is None:
        repeat = {}
    elif not isinstance(repeat, Mapping):
        raise TimingError("Timing.repeat", "must be a JSON object")
    _check_keys(repeat, _REPEAT_KEYS, "Timing.repeat")

    coded = _pattern_from_code(code, patient_times) if code is not None else None
    pattern = _pattern_from_repeat(repeat, coded, patient_times)

    start, end = _bounds(repeat, zone, start_date)
    days = pattern.days_of_week
    if pattern.align_weekday is not None:
        # "Every W weeks on <day>": start the N-day grid on the first such day.
        start += timedelta(days=(pattern.align_weekday - start.isoweekday()) % 7)
        if end is not None and end < start:
            raise TimingError(
                "Timing.repeat.dayOfWeek",
                f"no {_DAY_CODES[pattern.align_weekday - 1]} falls within the bounds",
            )
    count = repeat.get("count")
    if count is not None:
        count = _positive_int(count, "Timing.repeat.count")
    try:
        return Recurrence(
            times_of_day=pattern.times,
            timezone=timezone,
            start_date=start,
            end_date=end,
            days_of_week=days,
            every_n_days=pattern.every_n_days,
            max_count=count,
        )
    except ValueError as exc:
        # Recurrence names its own field first; translate it to the Timing element it came from.
        own_field, _, reason = str(exc).partition(": ")
        path = _RECURRENCE_TO_FHIR.get(own_field)
        if path is None:
            raise
        raise TimingError(path, reason) from exc


def timing_from_recurrence(rule: Recurrence) -> dict[str, Any]:
    """Export ``rule`` as a FHIR R4 ``Timing`` (parsed JSON shape).

    Times are written as explicit ``timeOfDay`` values (never ``when``), the day interval as
    ``frequency`` doses per ``period`` days, plus ``dayOfWeek``, ``boundsPeriod`` (start always,
    end when set) and ``count``. The timezone is not part of a Timing and is not exported.
    """
    bounds: dict[str, str] = {"start": rule.start_date.isoformat()}
    if rule.end_date is not None:
        bounds["end"] = rule.end_date.isoformat()
    repeat: dict[str, Any] = {"boundsPeriod": bounds}
    if rule.max_count is not None:
        repeat["count"] = rule.max_count
    repeat["frequency"] = len(rule.times_of_day)
    repeat["period"] = rule.every_n_days or 1
    repeat["periodUnit"] = "d"
    if rule.days_of_week is not None:
        repeat["dayOfWeek"] = [_DAY_CODES[d - 1] for d in sorted(rule.days_of_week)]
    repeat["timeOfDay"] = [_format_time(t) for t in rule.times_of_day]
    return {"repeat": repeat}


# -- patterns -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pattern:
    """What a code or repeat says about a day: its times, the day interval and weekdays."""

    times: tuple[time, ...]
    every_n_days: int | None = None
    days_of_week: frozenset[int] | None = None
    align_weekday: int | None = None  # move start_date forward to this ISO weekday

    @property
    def doses(self) -> tuple[int, int]:
        return len(self.times), self.every_n_days or 1


def _pattern_from_repeat(
    repeat: Mapping[str, Any], coded: _Pattern | None, pt: PatientDayTimes
) -> _Pattern:
    when, time_of_day, offset = repeat.get("when"), repeat.get("timeOfDay"), repeat.get("offset")
    if when is not None and time_of_day is not None:
        raise TimingError("Timing.repeat.when", "cannot be combined with timeOfDay")
    if offset is not None and when is None:
        raise TimingError("Timing.repeat.offset", "needs when to say what it is counted from")
    times: tuple[time, ...] | None = None
    if time_of_day is not None:
        times = _parse_times_of_day(time_of_day)
    elif when is not None:
        times = _when_times(when, offset, pt)
    days = _parse_days(repeat["dayOfWeek"]) if "dayOfWeek" in repeat else None

    frequency, period, unit = (
        repeat.get("frequency"),
        repeat.get("period"),
        repeat.get("periodUnit"),
    )
    if period is not None and unit is None:
        raise TimingError("Timing.repeat.periodUnit", "is required with period")
    if unit is not None and period is None:
        raise TimingError("Timing.repeat.period", "is required with periodUnit")
    if frequency is not None and period is None:
        raise TimingError("Timing.repeat.period", "is required with frequency")

    if unit is None:
        if times is None:
            if coded is None:
                raise TimingError(
                    "Timing.repeat",
                    "needs timeOfDay, when, frequency with period and periodUnit, or a code",
                )
            return replace(coded, days_of_week=days)
        if coded is not None and len(coded.times) != len(times):
            raise TimingError(
                "Timing.code",
                f"says {len(coded.times)} doses a day but Timing.repeat gives {len(times)} times",
            )
        return _Pattern(times, coded.every_n_days if coded else None, days)

    count = 1 if frequency is None else _positive_int(frequency, "Timing.repeat.frequency")
    amount = _positive_decimal(period, "Timing.repeat.period")
    parsers: dict[str, Callable[..., _Pattern]] = {
        "h": _hourly,
        "d": _daily,
        "wk": _weekly,
    }
    if not isinstance(unit, str):
        raise TimingError("Timing.repeat.periodUnit", f"must be a code, got {unit!r}")
    if unit not in parsers:
        if unit in ("s", "min"):
            raise TimingError("Timing.repeat.periodUnit", f"{unit!r} is not supported; use h")
        if unit in ("mo", "a"):
            raise TimingError("Timing.repeat.periodUnit", f"{unit!r} is not supported; use d or wk")
        raise TimingError("Timing.repeat.periodUnit", f"{unit!r} is not a UnitsOfTime code")
    pattern = parsers[unit](
        count=count,
        frequency_given=frequency is not None,
        amount=amount,
        times=times,
        days=days,
        when_given=when is not None,
        pt=pt,
    )
    if coded is not None and coded.doses != pattern.doses:
        raise TimingError(
            "Timing.code",
            f"means {coded.doses[0]} doses every {coded.doses[1]} days but Timing.repeat says "
            f"{pattern.doses[0]} every {pattern.doses[1]}",
        )
    return pattern


def _hourly(
    *,
    count: int,
    frequency_given: bool,
    amount: Decimal,
    times: tuple[time, ...] | None,
    days: frozenset[int] | None,
    when_given: bool,
    pt: PatientDayTimes,
) -> _Pattern:
    """Every H hours around the clock, from one timeOfDay or else from waking."""
    del frequency_given  # frequency only divides the period here
    if when_given:
        raise TimingError("Timing.repeat.when", "cannot be combined with periodUnit h")
    if times is not None and len(times) != 1:
        raise TimingError(
            "Timing.repeat.timeOfDay", "with periodUnit h give one time, the first dose"
        )
    seconds = amount * 3600 / count
    if seconds != seconds.to_integral_value() or seconds <= 0:
        raise TimingError("Timing.repeat.period", "must be a whole number of seconds per dose")
    step = int(seconds)
    anchor = times[0] if times is not None else pt.wake
    if step % _DAY_SECONDS == 0:
        return _Pattern((anchor,), _interval(step // _DAY_SECONDS), days)
    if _DAY_SECONDS % step != 0:
        raise TimingError(
            "Timing.repeat.period",
            f"every {_hours(step)} h does not fit a day evenly; use 1, 2, 3, 4, 6, 8, 12 or 24 h",
        )
    if _DAY_SECONDS // step > _MAX_DOSES_PER_DAY:
        raise TimingError(
            "Timing.repeat.frequency",
            f"a dose every {_hours(step)} h is more often than hourly, too often for reminders",
        )
    doses = tuple(_shift(anchor, k * step) for k in range(_DAY_SECONDS // step))
    return _Pattern(doses, None, days)


def _daily(
    *,
    count: int,
    frequency_given: bool,
    amount: Decimal,
    times: tuple[time, ...] | None,
    days: frozenset[int] | None,
    when_given: bool,
    pt: PatientDayTimes,
) -> _Pattern:
    """``count`` doses on every ``amount``-th day."""
    del when_given, pt
    every = _whole(amount, "Timing.repeat.period", "days; for hours use periodUnit h")
    times = _times_for(count, frequency_given, times, "a dosing day")
    if times is None:
        if every > 1 and count > 1:
            raise TimingError(
                "Timing.repeat.timeOfDay",
                f"{count} doses every {every} days need timeOfDay or when",
            )
        times = _spread(count)
    return _Pattern(times, _interval(every), days)


def _weekly(
    *,
    count: int,
    frequency_given: bool,
    amount: Decimal,
    times: tuple[time, ...] | None,
    days: frozenset[int] | None,
    when_given: bool,
    pt: PatientDayTimes,
) -> _Pattern:
    """``count`` doses every ``amount`` weeks, on the listed weekdays or the start's weekday."""
    del when_given, pt
    weeks = _whole(amount, "Timing.repeat.period", "weeks")
    if days is None:
        # Without weekdays only "one dosing day per W weeks" is unambiguous: every 7W days.
        if times is None and count > 1:
            raise TimingError(
                "Timing.repeat.dayOfWeek",
                f"{count} doses a week need dayOfWeek to say which days",
            )
        times = _times_for(count, frequency_given, times, "a dosing day")
        return _Pattern(times or _spread(count), 7 * weeks, None)
    if count % len(days) != 0:
        raise TimingError(
            "Timing.repeat.frequency",
            f"{count} doses a week on {len(days)} days is not a whole number a day",
        )
    per_day = count // len(days)
    times = _times_for(per_day, frequency_given, times, "each day in dayOfWeek")
    times = times or _spread(per_day)
    if weeks == 1:
        return _Pattern(times, None, days)
    if len(days) != 1:
        raise TimingError(
            "Timing.repeat.dayOfWeek",
            f"every {weeks} weeks works with a single day of the week, got {len(days)}",
        )
    (weekday,) = days
    return _Pattern(times, 7 * weeks, None, align_weekday=weekday)


def _times_for(
    per_day: int, frequency_given: bool, times: tuple[time, ...] | None, where: str
) -> tuple[time, ...] | None:
    if times is not None and frequency_given and len(times) != per_day:
        raise TimingError(
            "Timing.repeat.frequency",
            f"means {per_day} doses on {where} but {len(times)} times are given",
        )
    return times


def _spread(count: int) -> tuple[time, ...]:
    if count > _MAX_DOSES_PER_DAY:
        raise TimingError(
            "Timing.repeat.frequency",
            f"{count} doses a day is too many for reminders; use periodUnit h",
        )
    if count == 1:
        return (_minutes(_SPREAD_FIRST_MIN),)
    step = _SPREAD_SPAN_MIN / (count - 1)
    return tuple(_minutes(round(_SPREAD_FIRST_MIN + k * step)) for k in range(count))


def _interval(days: int) -> int | None:
    return None if days == 1 else days


# -- codes --------------------------------------------------------------------------------------


def _every_hours(hours: int) -> Callable[[PatientDayTimes], _Pattern]:
    def build(pt: PatientDayTimes) -> _Pattern:
        step = hours * 3600
        return _Pattern(tuple(_shift(pt.wake, k * step) for k in range(_DAY_SECONDS // step)))

    return build


def _fixed(
    *hhmm: tuple[int, int], every: int | None = None
) -> Callable[[PatientDayTimes], _Pattern]:
    return lambda _pt: _Pattern(tuple(time(h, m) for h, m in hhmm), every)


def _event(name: str) -> Callable[[PatientDayTimes], _Pattern]:
    return lambda pt: _Pattern((_EVENTS[name](pt),))


_CODES: dict[str, Callable[[PatientDayTimes], _Pattern]] = {
    "QD": _fixed((8, 0)),
    "QOD": _fixed((8, 0), every=2),
    "WK": _fixed((8, 0), every=7),
    "BID": _fixed((8, 0), (20, 0)),
    "TID": _fixed((8, 0), (14, 0), (20, 0)),
    "QID": _fixed((8, 0), (12, 0), (16, 0), (20, 0)),
    "AM": _event("MORN"),
    "PM": _event("EVE"),
    "HS": _event("HS"),
    "BED": _event("HS"),
    **{f"Q{h}H": _every_hours(h) for h in (1, 2, 3, 4, 6, 8, 12)},
}
_UNSUPPORTED_CODES = {"MO": "monthly schedules are not supported"}


def _pattern_from_code(code: object, pt: PatientDayTimes) -> _Pattern:
    if not isinstance(code, Mapping):
        raise TimingError("Timing.code", "must be a CodeableConcept object")
    found: dict[str, str] = {}  # abbreviation -> path it came from
    codings = code.get("coding", [])
    if not isinstance(codings, list):
        raise TimingError("Timing.code.coding", "must be a list")
    for i, coding in enumerate(codings):
        path = f"Timing.code.coding[{i}].code"
        if not isinstance(coding, Mapping):
            raise TimingError(f"Timing.code.coding[{i}]", "must be a Coding object")
        system = coding.get("system")
        if system not in (None, _GTS_SYSTEM):
            continue  # another terminology (SNOMED, local) summarising the same schedule
        value = coding.get("code")
        if not isinstance(value, str):
            raise TimingError(path, f"must be a string, got {value!r}")
        found[_known_code(value, path)] = path
    text = code.get("text")
    if not found and isinstance(text, str) and text.strip().upper() in _CODES | _UNSUPPORTED_CODES:
        found[_known_code(text.strip(), "Timing.code.text")] = "Timing.code.text"
    if not found:
        raise TimingError(
            "Timing.code", f"has no supported abbreviation; use one of {', '.join(_CODES)}"
        )
    if len(found) > 1:
        raise TimingError("Timing.code", f"has conflicting abbreviations {sorted(found)}")
    (abbreviation,) = found
    return _CODES[abbreviation](pt)


def _known_code(value: str, path: str) -> str:
    key = value.upper()
    if key in _UNSUPPORTED_CODES:
        raise TimingError(path, f"{value!r}: {_UNSUPPORTED_CODES[key]}")
    if key not in _CODES:
        raise TimingError(path, f"{value!r} is not a supported timing abbreviation")
    return key


# -- when ---------------------------------------------------------------------------------------


def _midway(a: time, b: time) -> time:
    gap = (_seconds(b) - _seconds(a)) % _DAY_SECONDS  # forward, so night shifts work too
    return _shift(a, gap // 2)


_HOUR = 3600
_EVENTS: dict[str, Callable[[PatientDayTimes], time]] = {
    "WAKE": lambda pt: pt.wake,
    "MORN.early": lambda pt: pt.wake,
    "MORN": lambda pt: pt.breakfast,
    "MORN.late": lambda pt: _shift(pt.breakfast, 2 * _HOUR),
    "NOON": lambda _pt: time(12, 0),
    "AFT.early": lambda pt: _shift(pt.lunch, 3 * _HOUR // 2),
    "AFT": lambda pt: _midway(pt.lunch, pt.dinner),
    "AFT.late": lambda pt: _shift(pt.dinner, -3 * _HOUR // 2),
    "EVE.early": lambda pt: pt.dinner,
    "EVE": lambda pt: _shift(pt.sleep, -2 * _HOUR),
    "EVE.late": lambda pt: _shift(pt.sleep, -_HOUR),
    "NIGHT": lambda pt: pt.sleep,
    "HS": lambda pt: pt.sleep,
    "PHS": lambda pt: pt.sleep,
}
_MEALS: dict[str, Callable[[PatientDayTimes], tuple[time, ...]]] = {
    "": lambda pt: (pt.breakfast, pt.lunch, pt.dinner),
    "M": lambda pt: (pt.breakfast,),
    "D": lambda pt: (pt.lunch,),
    "V": lambda pt: (pt.dinner,),
}


def _when_times(when: object, offset: object, pt: PatientDayTimes) -> tuple[time, ...]:
    path = "Timing.repeat.when"
    if not isinstance(when, list) or not when:
        raise TimingError(path, "must be a non-empty list of EventTiming codes")
    minutes = None if offset is None else _unsigned_int(offset, "Timing.repeat.offset")
    result: list[time] = []
    for code in when:
        if not isinstance(code, str):
            raise TimingError(path, f"{code!r} is not an EventTiming code")
        prefix, meal = code[:-1], code[-1:]
        if code == "C" or (prefix == "C" and meal in _MEALS):
            if minutes is not None:
                raise TimingError("Timing.repeat.offset", f"cannot be used with when {code}")
            result.extend(_MEALS["" if code == "C" else meal](pt))
        elif code in ("AC", "PC") or (prefix in ("AC", "PC") and meal in _MEALS):
            before = code.startswith("AC")
            default = DEFAULT_AC_OFFSET_MIN if before else DEFAULT_PC_OFFSET_MIN
            delta = (default if minutes is None else minutes) * 60 * (-1 if before else 1)
            key = "" if code in ("AC", "PC") else meal
            result.extend(_shift(t, delta) for t in _MEALS[key](pt))
        elif code in _EVENTS:
            # FHIR: offsets count after the event unless the code says before (HS only here).
            sign = -1 if code == "HS" else 1
            result.append(_shift(_EVENTS[code](pt), sign * (minutes or 0) * 60))
        else:
            raise TimingError(path, f"{code!r} is not a supported EventTiming code")
    return tuple(sorted(set(result)))


# -- element parsers ----------------------------------------------------------------------------


def _check_keys(obj: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for key in obj:
        if not isinstance(key, str):
            raise TimingError(where, f"has a non-string key {key!r}")
        path = f"{where}.{key}"
        if path in _REFUSED:
            raise TimingError(path, _REFUSED[path])
        # "_name" siblings carry ids and extensions of primitive values and never change meaning.
        if key not in allowed and not (key.startswith("_") and key[1:] in allowed):
            raise TimingError(path, "is not an element of FHIR R4 Timing")


def _parse_times_of_day(value: object) -> tuple[time, ...]:
    path = "Timing.repeat.timeOfDay"
    if not isinstance(value, list) or not value:
        raise TimingError(path, "must be a non-empty list of hh:mm:ss times")
    result = []
    for item in value:
        if not isinstance(item, str) or not _TIME_RE.fullmatch(item):
            raise TimingError(path, f"{item!r} is not a FHIR time (hh:mm:ss)")
        result.append(time.fromisoformat(_pad_fraction(item)))
    return tuple(sorted(set(result)))


def _parse_days(value: object) -> frozenset[int]:
    path = "Timing.repeat.dayOfWeek"
    if not isinstance(value, list) or not value:
        raise TimingError(path, "must be a non-empty list of mon..sun")
    days = set()
    for item in value:
        if item not in _DAY_CODES:
            raise TimingError(path, f"{item!r} is not one of {', '.join(_DAY_CODES)}")
        days.add(_DAY_CODES.index(item) + 1)
    return frozenset(days)


def _bounds(
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
    amount = _whole(
        _positive_decimal(duration.get("value"), f"{path}.value"), f"{path}.value", unit
    )
    unit = units[unit.lower()]
    # Bounds are inclusive dates, so "10 days from the 1st" ends on the 10th.
    try:
        if unit == "mo":
            return _add_months(start, amount) - timedelta(days=1)
        return start + timedelta(days=amount * (7 if unit == "wk" else 1) - 1)
    except (OverflowError, ValueError) as exc:
        raise TimingError(f"{path}.value", "ends after the year 9999") from exc


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _parse_date(value: object, zone: ZoneInfo, path: str) -> date:
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
        return instant.astimezone(zone).date()
    raise TimingError(
        path, f"{value!r} is not a full date (YYYY-MM-DD) or dateTime with a timezone"
    )


def _positive_int(value: object, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TimingError(path, f"must be a positive integer, got {value!r}")
    return value


def _unsigned_int(value: object, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TimingError(path, f"must be a non-negative integer of minutes, got {value!r}")
    return value


def _positive_decimal(value: object, path: str) -> Decimal:
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


def _whole(amount: Decimal, path: str, unit: str) -> int:
    if amount != amount.to_integral_value():
        raise TimingError(path, f"{amount} is not a whole number of {unit}")
    return int(amount)


def _zone(key: object) -> ZoneInfo:
    if not isinstance(key, str) or not key:
        raise ValueError(f"timezone: must be an IANA timezone name, got {key!r}")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone: unknown IANA timezone {key!r}") from exc


_RECURRENCE_TO_FHIR = {
    "times_of_day": "Timing.repeat.timeOfDay",
    "start_date": "Timing.repeat.boundsPeriod.start",
    "end_date": "Timing.repeat.boundsPeriod.end",
    "days_of_week": "Timing.repeat.dayOfWeek",
    "every_n_days": "Timing.repeat.period",
    "max_count": "Timing.repeat.count",
}


# -- clock arithmetic ---------------------------------------------------------------------------


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _shift(t: time, seconds: int) -> time:
    """``t`` moved by ``seconds``, wrapping around midnight (the dose stays on its date)."""
    total = (_seconds(t) + seconds) % _DAY_SECONDS
    return time(total // 3600, total // 60 % 60, total % 60, t.microsecond)


def _minutes(total: int) -> time:
    return time(total // 60, total % 60)


def _hours(seconds: int) -> str:
    return f"{Decimal(seconds) / 3600:f}".rstrip("0").rstrip(".")


def _pad_fraction(text: str) -> str:
    """Python 3.11 ``fromisoformat`` wants 3 or 6 fraction digits; FHIR allows any number."""
    match = re.search(r"\.(\d+)", text)
    if match is None:
        return text
    digits = (match.group(1) + "000000")[:6]
    return text[: match.start(1)] + digits + text[match.end(1) :]


def _format_time(t: time) -> str:
    text = t.strftime("%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond:06d}".rstrip("0")
    return text
