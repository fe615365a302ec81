"""Wall-clock gaps of a timezone: times that do not exist, and whole dates a zone skipped.

Pure functions over ``zoneinfo``, no clock. :mod:`scheduler.recurrence` turns a reminder's wall
time into an instant with :func:`in_gap` and :func:`gap_end`, and counts a rule's doses past
the dates :func:`skipped_dates` lists (Pacific/Apia skipped 2011-12-30 when it crossed the date
line): a count of doses then needs no walk over every date from the rule's start.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["date_exists", "gap_end", "in_gap", "skipped_dates"]

# Offsets are sampled every _SAMPLE_STEP over [_SAMPLE_FIRST, _SAMPLE_LAST]. tzdb has no
# transition before the 1800s (local mean time until then), and after its last explicit one
# (2037) a zone follows its POSIX rule, whose summer time is hours, never a day.
_SAMPLE_FIRST = datetime(1600, 1, 1, tzinfo=UTC)
_SAMPLE_LAST = datetime(2400, 1, 1, tzinfo=UTC)
_SAMPLE_STEP = timedelta(days=28)
# A date can only be skipped by a transition that moves the clock forward a whole day or more
# (a date-line crossing). Between two samples such a jump shows as a rise of nearly a day: the
# summer-time changes that could hide part of it in the same four weeks are an hour or two.
_DATE_LINE_RISE = timedelta(hours=12)


def in_gap(wall: datetime) -> bool:
    """Whether the aware wall time does not exist in its zone.

    PEP 495: inside a gap fold=0 reads the offset from before the transition and fold=1 the
    (larger) one after it; inside a fold the order is reversed; elsewhere both agree.
    """
    return wall.replace(fold=1).utcoffset() > wall.replace(fold=0).utcoffset()  # type: ignore[operator]


def gap_end(tz: ZoneInfo, wall: datetime) -> datetime:
    """The transition instant that ends the gap containing the nonexistent ``wall`` time.

    ``zoneinfo`` does not expose transitions, but PEP 495 brackets this one: reading the wall
    time with the offset before the gap (fold=0) gives an instant at or after the transition and
    with the offset after it (fold=1) one before. Transitions fall on whole seconds, so a binary
    search over at most a day's seconds (17 steps) finds it exactly. Only gap times get here.
    """
    naive = wall.replace(tzinfo=None)
    hi = math.floor(wall.replace(fold=0).timestamp())  # first instant known to be past the gap
    lo = math.floor(wall.replace(fold=1).timestamp())  # an instant known to be before it
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def date_exists(tz: ZoneInfo, day: date) -> bool:
    """False only for a date the zone skipped entirely (Pacific/Apia, 2011-12-30)."""
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    if not in_gap(midnight):
        return True
    return gap_end(tz, midnight).astimezone(tz).date() == day


@functools.cache
def skipped_dates(key: str) -> tuple[int, ...]:
    """Ordinals of the local dates zone ``key`` skipped entirely, ascending (usually none).

    Found by sampling the zone's offset every four weeks and checking each date of a span
    where it rose by half a day or more with :func:`date_exists`; some 10,000 offset reads, once
    per zone and process.
    """
    tz = ZoneInfo(key)
    found: list[int] = []
    before = _SAMPLE_FIRST
    before_offset = before.astimezone(tz).utcoffset()
    while before < _SAMPLE_LAST:
        after = before + _SAMPLE_STEP
        after_offset = after.astimezone(tz).utcoffset()
        if after_offset - before_offset >= _DATE_LINE_RISE:  # type: ignore[operator]
            first = before.astimezone(tz).date().toordinal() - 1
            last = after.astimezone(tz).date().toordinal() + 1
            found.extend(
                o for o in range(first, last + 1) if not date_exists(tz, date.fromordinal(o))
            )
        before, before_offset = after, after_offset
    return tuple(sorted(set(found)))
