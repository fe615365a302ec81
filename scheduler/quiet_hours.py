"""Quiet hours: when a non-urgent message must wait until morning, in the recipient's timezone.

Pure functions over aware datetimes; windows may cross midnight (21:00-08:00). A window whose start
equals its end is empty (quiet hours off).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Kinds sent at times the patient chose themselves: never deferred, they asked for that time.
PATIENT_CHOSEN_KINDS = frozenset({"medication_reminder", "dose_followup"})


def is_deferrable(kind: str, urgent: bool) -> bool:
    """Whether quiet hours apply to a message of ``kind``."""
    return not urgent and kind not in PATIENT_CHOSEN_KINDS


def quiet_window_end(at: datetime, timezone: str, start: time, end: time) -> datetime | None:
    """If ``at`` falls inside the daily quiet window [start, end) in ``timezone``, its end (UTC).

    Returns None outside the window. Raises ValueError for a naive ``at``.
    """
    if at.tzinfo is None:
        raise ValueError("quiet_window_end needs an aware datetime")
    if start == end:
        return None
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start < end:
        if not start <= now < end:
            return None
        day = local.date()
    elif now >= start:  # evening part of a window that crosses midnight
        day = local.date() + timedelta(days=1)
    elif now < end:  # morning part
        day = local.date()
    else:
        return None
    # A wall time that does not exist (DST gap) resolves forward via the UTC round trip.
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
