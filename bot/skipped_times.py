"""Reminder times the clocks skip on their next day: said when a medicine's times are saved.

A time set inside the hour the clocks go forward (2:30 AM on the night they go from 2:00 to 3:00)
does not exist that night: the planner fires it when the gap ends (``scheduler.recurrence``).
"Saved. I'll remind you at 2:30 AM." alone promised a reminder at a time no clock showed, and it
came at 3:00 AM (found using the bot as a patient). Said as a snooze across the change is said
(``answer_snoozed_clocks``): when it comes, and that the clocks change tonight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot import texts
from core.dose_times import sprung_over

__all__ = ["skipped_time_notes"]


def skipped_time_notes(
    write: Callable[..., str],
    locale: str,
    zone: str,
    reminders: Iterable[tuple[time, datetime]],
) -> list[str]:
    """One line per set time that ``zone``'s clocks skip on its next reminder's day, naming
    when that reminder comes instead. ``reminders``: each set wall time with its next
    reminder's instant, as the planner places it; ``write``: the turn's ``t``."""
    tz = ZoneInfo(zone)
    notes = []
    for at, due in reminders:
        comes = due.astimezone(tz)
        if sprung_over(due, zone, comes.date(), at) is None:
            continue  # nearly always: the time exists that day
        notes.append(
            write(
                "med_saved_clocks",
                time=texts.fmt_time(at, locale),
                at=texts.fmt_time(comes, locale),
            )
        )
    return notes
