"""A patient's day and the FHIR ``EventTiming`` codes resolved in it (``Timing.repeat.when``).

:class:`PatientDayTimes` is the routine (wake, meals, sleep); :data:`EVENTS` and :data:`MEALS`
turn event codes into clock times in it, and :func:`when_times` reads a ``when`` list with its
``offset`` ("30 minutes before breakfast, lunch and dinner" is ``when: [ACM, ACD, ACV]``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import time

from scheduler.fhir_elements import DAY_SECONDS, TimingError, seconds_of, shift_time, unsigned_int

# Minutes before a meal for AC* and after it for PC* when the Timing gives no offset: "before
# food" reminders at the meal itself would come too late to take the dose before eating.
DEFAULT_AC_OFFSET_MIN = 30
DEFAULT_PC_OFFSET_MIN = 30


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


def _midway(a: time, b: time) -> time:
    gap = (seconds_of(b) - seconds_of(a)) % DAY_SECONDS  # forward, so night shifts work too
    return shift_time(a, gap // 2)


_HOUR = 3600
_DAY_MINUTES = DAY_SECONDS // 60
EVENTS: dict[str, Callable[[PatientDayTimes], time]] = {
    "WAKE": lambda pt: pt.wake,
    "MORN.early": lambda pt: pt.wake,
    "MORN": lambda pt: pt.breakfast,
    "MORN.late": lambda pt: shift_time(pt.breakfast, 2 * _HOUR),
    "NOON": lambda _pt: time(12, 0),
    "AFT.early": lambda pt: shift_time(pt.lunch, 3 * _HOUR // 2),
    "AFT": lambda pt: _midway(pt.lunch, pt.dinner),
    "AFT.late": lambda pt: shift_time(pt.dinner, -3 * _HOUR // 2),
    "EVE.early": lambda pt: pt.dinner,
    "EVE": lambda pt: shift_time(pt.sleep, -2 * _HOUR),
    "EVE.late": lambda pt: shift_time(pt.sleep, -_HOUR),
    "NIGHT": lambda pt: pt.sleep,
    "HS": lambda pt: pt.sleep,
    "PHS": lambda pt: pt.sleep,
}
MEALS: dict[str, Callable[[PatientDayTimes], tuple[time, ...]]] = {
    "": lambda pt: (pt.breakfast, pt.lunch, pt.dinner),
    "M": lambda pt: (pt.breakfast,),
    "D": lambda pt: (pt.lunch,),
    "V": lambda pt: (pt.dinner,),
}


def when_times(when: object, offset: object, pt: PatientDayTimes) -> tuple[time, ...]:
    path = "Timing.repeat.when"
    if not isinstance(when, list) or not when:
        raise TimingError(path, "must be a non-empty list of EventTiming codes")
    minutes = None if offset is None else unsigned_int(offset, "Timing.repeat.offset")
    if minutes is not None and minutes >= _DAY_MINUTES:
        # A dose stays on its event's date (shift_time wraps): a day or more would silently be
        # read modulo a day (99999999999 minutes after MORN was a dose at 18:39).
        raise TimingError(
            "Timing.repeat.offset",
            f"{minutes} minutes is a day or more from the event; give at most "
            f"{_DAY_MINUTES - 1} minutes",
        )
    result: list[time] = []
    for code in when:
        if not isinstance(code, str):
            raise TimingError(path, f"{code!r} is not an EventTiming code")
        prefix, meal = code[:-1], code[-1:]
        if code == "C" or (prefix == "C" and meal in MEALS):
            if minutes is not None:
                raise TimingError("Timing.repeat.offset", f"cannot be used with when {code}")
            result.extend(MEALS["" if code == "C" else meal](pt))
        elif code in ("AC", "PC") or (prefix in ("AC", "PC") and meal in MEALS):
            before = code.startswith("AC")
            default = DEFAULT_AC_OFFSET_MIN if before else DEFAULT_PC_OFFSET_MIN
            delta = (default if minutes is None else minutes) * 60 * (-1 if before else 1)
            key = "" if code in ("AC", "PC") else meal
            result.extend(shift_time(t, delta) for t in MEALS[key](pt))
        elif code in EVENTS:
            # FHIR: offsets count after the event unless the code says before (HS only here).
            sign = -1 if code == "HS" else 1
            result.append(shift_time(EVENTS[code](pt), sign * (minutes or 0) * 60))
        else:
            raise TimingError(path, f"{code!r} is not a supported EventTiming code")
    return tuple(sorted(set(result)))


__all__ = ["DEFAULT_DAY_TIMES", "EVENTS", "MEALS", "PatientDayTimes", "when_times"]
