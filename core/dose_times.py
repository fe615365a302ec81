"""The time a dose is called by: the one its patient set, also on the day clocks spring forward.

A dose set for 2:30 AM does not exist on the night clocks go from 2:00 to 3:00: the planner fires
it at the end of the gap, 3:00 (``scheduler.recurrence``), and keeps the time the patient set in
``dose_events.local_time`` (and the reminder's payload). Named by the instant it fires, its
reminder read "Time for your 3:00 AM dose" and /today listed "3:00 AM", a dose the patient never
set. Named by :func:`named_local` (or :func:`sprung_over`), it is "your 2:30 AM dose", as every
other day.

Only that case changes anything: a set time that exists (every other day, and both hours of the
autumn night) or a dose shown in another zone than its schedule's (a patient away from home, who
sees their clock's time) is named by its instant in the zone shown.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def named_local(
    due_at: datetime,
    zone: str | tzinfo,
    local_date: date | str | None = None,
    local_time: time | str | None = None,
) -> datetime:
    """The dose due at ``due_at`` as ``zone``'s clock names it: its set wall time
    (:func:`sprung_over`) where the clocks sprang over it, else ``due_at`` in ``zone``."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    if isinstance(tz, ZoneInfo):
        named = sprung_over(due_at, tz.key, local_date, local_time)
        if named is not None:
            return named
    return due_at.astimezone(tz)


def sprung_over(
    due_at: datetime,
    zone: str,
    local_date: date | str | None,
    local_time: time | str | None,
) -> datetime | None:
    """The dose's set wall time (``local_date`` and ``local_time``, the schedule's, as dates and
    times or ISO text) as an aware datetime in ``zone`` (an IANA name) when that time does not
    exist there that day and the dose fires at the end of the gap; else None (nearly always:
    one cached lookup, so the dispatcher asks for every reminder). The datetime is that wall
    time, which no instant has: format it, do not compute with it."""
    if local_date is None or local_time is None:
        return None
    gap = _gap(str(local_date), str(local_time), zone)
    if gap is None:
        return None
    wall, gap_end = gap
    fires = due_at.astimezone(wall.tzinfo).replace(tzinfo=None)
    return wall if wall.replace(tzinfo=None) < fires <= gap_end else None


@functools.lru_cache(maxsize=1024)
def _gap(local_date: str, local_time: str, key: str) -> tuple[datetime, datetime] | None:
    """``(the wall time in zone key, the latest wall time its gap ends at)`` when the wall time
    does not exist there (PEP 495: in a gap fold=1 reads the later, larger offset), else None.
    Cached: the same few set times and zones come back for every reminder."""
    try:
        wall = datetime.combine(
            date.fromisoformat(local_date), time.fromisoformat(local_time), tzinfo=ZoneInfo(key)
        )
    except (ValueError, ZoneInfoNotFoundError):
        return None  # not a date and time, or no zone: name the dose by its instant
    before, after = wall.replace(fold=0).utcoffset(), wall.replace(fold=1).utcoffset()
    if before is None or after is None or after <= before:
        return None
    return wall, wall.replace(tzinfo=None) + (after - before)
