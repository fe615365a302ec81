"""What a FHIR ``Timing`` says about a day: ``repeat`` and ``code`` expanded to clock times.

A :class:`Pattern` holds the dose times of a dosing day, the day interval and the weekdays.
:func:`pattern_from_repeat` reads ``frequency``/``period``/``periodUnit``, ``timeOfDay``,
``dayOfWeek`` and ``when``/``offset``; :func:`pattern_from_code` the GTS abbreviations (QD, BID,
Q8H, HS...). Meal and sleep events (``when``) resolve through the patient's routine, in
:mod:`scheduler.fhir_events`.
Element parsing is :mod:`scheduler.fhir_elements`; building the ``Recurrence`` is
:mod:`scheduler.fhir_timing`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import time
from decimal import Decimal
from typing import Any

from scheduler.fhir_elements import (
    DAY_SECONDS,
    MAX_DOSES_PER_DAY,
    TimingError,
    parse_days,
    parse_times_of_day,
    positive_decimal,
    positive_int,
    shift_time,
    step_text,
    time_from_minutes,
    whole,
)
from scheduler.fhir_events import EVENTS, PatientDayTimes, when_times

# Fixed clock times of the frequency abbreviations (BID, TID, QID and N-per-day without times):
# N doses spread evenly from 08:00 to 20:00, which gives the customary 08/20, 08/14/20, 08/12/16/20.
_SPREAD_FIRST_MIN = 8 * 60
_SPREAD_SPAN_MIN = 12 * 60

_GTS_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"


# -- patterns -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pattern:
    """What a code or repeat says about a day: its times, the day interval and weekdays."""

    times: tuple[time, ...]
    every_n_days: int | None = None
    days_of_week: frozenset[int] | None = None
    align_weekday: int | None = None  # move start_date forward to this ISO weekday

    @property
    def doses(self) -> tuple[int, int]:
        return len(self.times), self.every_n_days or 1


def pattern_from_repeat(
    repeat: Mapping[str, Any], coded: Pattern | None, pt: PatientDayTimes
) -> Pattern:
    when, time_of_day, offset = repeat.get("when"), repeat.get("timeOfDay"), repeat.get("offset")
    if when is not None and time_of_day is not None:
        raise TimingError("Timing.repeat.when", "cannot be combined with timeOfDay")
    if offset is not None and when is None:
        raise TimingError("Timing.repeat.offset", "needs when to say what it is counted from")
    times: tuple[time, ...] | None = None
    if time_of_day is not None:
        times = parse_times_of_day(time_of_day)
    elif when is not None:
        times = when_times(when, offset, pt)
    days = parse_days(repeat["dayOfWeek"]) if "dayOfWeek" in repeat else None

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
        return Pattern(times, coded.every_n_days if coded else None, days)

    count = 1 if frequency is None else positive_int(frequency, "Timing.repeat.frequency")
    amount = positive_decimal(period, "Timing.repeat.period")
    parsers: dict[str, Callable[..., Pattern]] = {
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
) -> Pattern:
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
    if step % DAY_SECONDS == 0:
        return Pattern((anchor,), _interval(step // DAY_SECONDS), days)
    if DAY_SECONDS % step != 0:
        raise TimingError(
            "Timing.repeat.period",
            f"every {step_text(step)} does not fit a day evenly; use 1, 2, 3, 4, 6, 8, 12 or 24 h",
        )
    if DAY_SECONDS // step > MAX_DOSES_PER_DAY:
        raise TimingError(
            "Timing.repeat.frequency",
            f"a dose every {step_text(step)} is more often than hourly, too often for reminders",
        )
    doses = tuple(shift_time(anchor, k * step) for k in range(DAY_SECONDS // step))
    return Pattern(doses, None, days)


def _daily(
    *,
    count: int,
    frequency_given: bool,
    amount: Decimal,
    times: tuple[time, ...] | None,
    days: frozenset[int] | None,
    when_given: bool,
    pt: PatientDayTimes,
) -> Pattern:
    """``count`` doses on every ``amount``-th day."""
    del when_given, pt
    every = whole(amount, "Timing.repeat.period", "days; for hours use periodUnit h")
    times = _times_for(count, frequency_given, times, "a dosing day")
    if times is None:
        if every > 1 and count > 1:
            raise TimingError(
                "Timing.repeat.timeOfDay",
                f"{count} doses every {every} days need timeOfDay or when",
            )
        times = _spread(count)
    return Pattern(times, _interval(every), days)


def _weekly(
    *,
    count: int,
    frequency_given: bool,
    amount: Decimal,
    times: tuple[time, ...] | None,
    days: frozenset[int] | None,
    when_given: bool,
    pt: PatientDayTimes,
) -> Pattern:
    """``count`` doses every ``amount`` weeks, on the listed weekdays or the start's weekday."""
    del when_given, pt
    weeks = whole(amount, "Timing.repeat.period", "weeks")
    if days is None:
        # Without weekdays only "one dosing day per W weeks" is unambiguous: every 7W days.
        if times is None and count > 1:
            raise TimingError(
                "Timing.repeat.dayOfWeek",
                f"{count} doses a week need dayOfWeek to say which days",
            )
        times = _times_for(count, frequency_given, times, "a dosing day")
        return Pattern(times or _spread(count), 7 * weeks, None)
    if count % len(days) != 0:
        raise TimingError(
            "Timing.repeat.frequency",
            f"{count} doses a week on {len(days)} days is not a whole number a day",
        )
    per_day = count // len(days)
    times = _times_for(per_day, frequency_given, times, "each day in dayOfWeek")
    times = times or _spread(per_day)
    if weeks == 1:
        return Pattern(times, None, days)
    if len(days) != 1:
        raise TimingError(
            "Timing.repeat.dayOfWeek",
            f"every {weeks} weeks works with a single day of the week, got {len(days)}",
        )
    (weekday,) = days
    return Pattern(times, 7 * weeks, None, align_weekday=weekday)


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
    if count > MAX_DOSES_PER_DAY:
        raise TimingError(
            "Timing.repeat.frequency",
            f"{count} doses a day is too many for reminders; use periodUnit h",
        )
    if count == 1:
        return (time_from_minutes(_SPREAD_FIRST_MIN),)
    step = _SPREAD_SPAN_MIN / (count - 1)
    return tuple(time_from_minutes(round(_SPREAD_FIRST_MIN + k * step)) for k in range(count))


def _interval(days: int) -> int | None:
    return None if days == 1 else days


# -- codes --------------------------------------------------------------------------------------


def _every_hours(hours: int) -> Callable[[PatientDayTimes], Pattern]:
    def build(pt: PatientDayTimes) -> Pattern:
        step = hours * 3600
        return Pattern(tuple(shift_time(pt.wake, k * step) for k in range(DAY_SECONDS // step)))

    return build


def _fixed(
    *hhmm: tuple[int, int], every: int | None = None
) -> Callable[[PatientDayTimes], Pattern]:
    return lambda _pt: Pattern(tuple(time(h, m) for h, m in hhmm), every)


def _event(name: str) -> Callable[[PatientDayTimes], Pattern]:
    return lambda pt: Pattern((EVENTS[name](pt),))


_CODES: dict[str, Callable[[PatientDayTimes], Pattern]] = {
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


def pattern_from_code(code: object, pt: PatientDayTimes) -> Pattern:
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


__all__ = ["Pattern", "pattern_from_code", "pattern_from_repeat"]
