"""When a pause the patient asks for ends, in their zone: a number of days on, or the start of a
day. One rule for the bot ("/pause 3 days", "/pause until 3/15": :mod:`bot.dialogs.account`) and
the patient app's settings (:mod:`medremind.web.patient_app.settings`), so that a length picked in
the app ends when the same words in a chat would. Also whether an end is far enough ahead to be
asked first, and how long it is as a patient says it (:mod:`bot.dialogs.pause_far`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.zone_names import zone_loads

__all__ = [
    "FAR_DAYS",
    "end_after_days",
    "end_at",
    "end_on_day",
    "is_far",
    "local_today",
    "pause_length",
    "pause_zone",
]


def pause_zone(zone: str | None) -> ZoneInfo:
    """The patient's zone where it loads, else UTC (a day's reading needs only its date)."""
    return ZoneInfo(zone if zone and zone_loads(zone) else "UTC")


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """The patient's today: an end date must come after it."""
    return now.astimezone(zone).date()


def end_after_days(now: datetime, zone: ZoneInfo, days: float) -> tuple[datetime, datetime]:
    """The end of a pause of ``days`` days from ``now``: the same wall-clock time that many days
    on (across a DST change too: 3 days from 10:00 is 10:00; "a week and a half", 10.5, from
    10:00 is 22:00), as an instant and as the patient's wall clock reads it."""
    local_now = now.astimezone(zone).replace(tzinfo=None)
    local_end = local_now + timedelta(days=days)  # on the wall clock: naive
    return _instant(local_end, zone), local_end


def end_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The end of a pause "until ``day`` at ``at``" ("tomorrow afternoon"): that wall-clock time
    of that day (a time the clocks skip lands just after the gap)."""
    return _instant(datetime.combine(day, at), zone)


def end_on_day(day: date, zone: ZoneInfo) -> datetime:
    """The end of a pause "until ``day``": that day's first instant, so the day is reminded."""
    return _instant(datetime.combine(day, time(0, 0)), zone)


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of the wall-clock time ``local`` in ``zone``; a time the clocks skip (00:00
    where DST starts at midnight) is read with the offset before the change, so it lands just
    after the gap (01:00), never before the day it names."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


# The longest month: "until" a day of next month, or "/pause 31 days", is never asked; a day
# misread the other way round ("2/3": 3 February or 2 March) or a day just passed (next year's)
# is mostly further, and a patient who meant that long says Yes once.
FAR_DAYS = 31

# Under this many days a length is said in days ("45 days"), from it in months.
_MONTHS_FROM_DAYS = 61
# From this many months a length is said in years ("3 years", "/pause until 3/4/2030").
_YEARS_FROM_MONTHS = 24
# Days past whole months that round up to the next month ("11 months" for 11 months 1 day).
_HALF_MONTH_DAYS = 15


def is_far(today: date, end_day: date) -> bool:
    """Whether a pause from the patient's ``today`` to ``end_day`` is long enough to ask first."""
    return (end_day - today).days > FAR_DAYS


def pause_length(today: date, end_day: date) -> tuple[str, int]:
    """How long from ``today`` to ``end_day`` is, as a patient says it, as the unit's text key
    and the count: days under two months ("45 days"), else months to the nearest ("11 months"
    for 11 months and a day), from two years years ("3 years")."""
    days = (end_day - today).days
    if days < _MONTHS_FROM_DAYS:
        return "pause_far_days", days
    months = (end_day.year - today.year) * 12 + end_day.month - today.month
    if end_day.day < today.day:
        months -= 1
    if (end_day - _months_on(today, months)).days >= _HALF_MONTH_DAYS:
        months += 1
    if months >= _YEARS_FROM_MONTHS:
        return "pause_far_years", round(months / 12)
    return "pause_far_months", months


def _months_on(day: date, months: int) -> date:
    """``day`` ``months`` calendar months on, its day of the month kept where the month has it
    (31 January and one month: 28 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")
