"""When a pause the patient asks for ends, in their zone: a number of days on, or the start of a
day. One rule for the bot ("/pause 3 days", "/pause until 3/15": :mod:`bot.dialogs.account`) and
the patient app's settings (:mod:`medremind.web.patient_app.settings`), so that a length picked in
the app ends when the same words in a chat would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.zone_names import zone_loads

__all__ = ["end_after_days", "end_on_day", "local_today", "pause_zone"]


def pause_zone(zone: str | None) -> ZoneInfo:
    """The patient's zone where it loads, else UTC (a day's reading needs only its date)."""
    return ZoneInfo(zone if zone and zone_loads(zone) else "UTC")


def local_today(now: datetime, zone: ZoneInfo) -> date:
    """The patient's today: an end date must come after it."""
    return now.astimezone(zone).date()


def end_after_days(now: datetime, zone: ZoneInfo, days: int) -> tuple[datetime, datetime]:
    """The end of a pause of ``days`` days from ``now``: the same wall-clock time that many days
    on (across a DST change too: 3 days from 10:00 is 10:00), as an instant and as the patient's
    wall clock reads it."""
    local_now = now.astimezone(zone)
    local_end = datetime.combine(local_now.date() + timedelta(days=days), local_now.time())
    return _instant(local_end, zone), local_end


def end_on_day(day: date, zone: ZoneInfo) -> datetime:
    """The end of a pause "until ``day``": that day's first instant, so the day is reminded."""
    return _instant(datetime.combine(day, time(0, 0)), zone)


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant of the wall-clock time ``local`` in ``zone``; a time the clocks skip (00:00
    where DST starts at midnight) is read with the offset before the change, so it lands just
    after the gap (01:00), never before the day it names."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)
