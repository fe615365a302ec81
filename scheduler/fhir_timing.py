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

Modules: :mod:`scheduler.fhir_elements` (each element's JSON and values),
:mod:`scheduler.fhir_events` (the patient's day and ``when``), :mod:`scheduler.fhir_patterns`
(``repeat`` and ``code`` as dose times), and this one (the ``Recurrence``, and export).

Errors::

    ValueError
     └── TimingError(field, reason)   the Timing cannot be represented; ``field`` is its FHIR path
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from scheduler.fhir_elements import (
    DAY_CODES,
    REPEAT_KEYS,
    TIMING_KEYS,
    TimingError,
    bounds,
    check_keys,
    format_time,
    parse_zone,
    positive_int,
)
from scheduler.fhir_events import DEFAULT_DAY_TIMES, PatientDayTimes
from scheduler.fhir_patterns import pattern_from_code, pattern_from_repeat
from scheduler.recurrence import Recurrence

# A schedule's count and day interval are PostgreSQL integers (reminder_schedules): a larger
# value could not be stored (asyncpg refused it, and the import answered 500).
MAX_STORED_INT = 2_147_483_647

__all__ = [
    "DEFAULT_DAY_TIMES",
    "PatientDayTimes",
    "TimingError",
    "recurrence_from_timing",
    "timing_from_recurrence",
]


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
    zone = parse_zone(timezone)
    if not isinstance(start_date, date) or isinstance(start_date, datetime):
        raise ValueError(f"start_date: must be a date, got {start_date!r}")
    if not isinstance(timing, Mapping):
        raise TimingError("Timing", f"must be a JSON object, got {type(timing).__name__}")
    check_keys(timing, TIMING_KEYS, "Timing")
    repeat = timing.get("repeat")
    code = timing.get("code")
    if repeat is None and code is None:
        raise TimingError("Timing", "needs repeat or code to describe when doses are due")
    if repeat is None:
        repeat = {}
    elif not isinstance(repeat, Mapping):
        raise TimingError("Timing.repeat", "must be a JSON object")
    check_keys(repeat, REPEAT_KEYS, "Timing.repeat")

    coded = pattern_from_code(code, patient_times) if code is not None else None
    pattern = pattern_from_repeat(repeat, coded, patient_times)

    start, end = bounds(repeat, zone, start_date)
    days = pattern.days_of_week
    if pattern.align_weekday is not None:
        # "Every W weeks on <day>": start the N-day grid on the first such day.
        start += timedelta(days=(pattern.align_weekday - start.isoweekday()) % 7)
        if end is not None and end < start:
            raise TimingError(
                "Timing.repeat.dayOfWeek",
                f"no {DAY_CODES[pattern.align_weekday - 1]} falls within the bounds",
            )
    count = repeat.get("count")
    if count is not None:
        count = positive_int(count, "Timing.repeat.count")
        if count > MAX_STORED_INT:
            raise TimingError(
                "Timing.repeat.count",
                f"must be at most {MAX_STORED_INT} doses; leave count out for no end",
            )
    if pattern.every_n_days is not None and pattern.every_n_days > MAX_STORED_INT:
        raise TimingError(
            "Timing.repeat.period",
            f"must be at most {MAX_STORED_INT} days between doses (one dose before the year "
            "9999 is all a longer period gives)",
        )
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
        repeat["dayOfWeek"] = [DAY_CODES[d - 1] for d in sorted(rule.days_of_week)]
    repeat["timeOfDay"] = [format_time(t) for t in rule.times_of_day]
    return {"repeat": repeat}


_RECURRENCE_TO_FHIR = {
    "times_of_day": "Timing.repeat.timeOfDay",
    "start_date": "Timing.repeat.boundsPeriod.start",
    "end_date": "Timing.repeat.boundsPeriod.end",
    "days_of_week": "Timing.repeat.dayOfWeek",
    "every_n_days": "Timing.repeat.period",
    "max_count": "Timing.repeat.count",
}
