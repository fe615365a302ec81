"""When "reminders are back on" (``pause_ended``) goes: at the pause's end, never after the first
reminder it announces.

The notice is a service notice, so the patient's quiet hours hold it (scheduler/quiet_hours.py):
a pause that ends at midnight says so in the morning rather than waking them. But a patient's own
reminder times are never held (they chose them), and one inside their quiet hours (a 07:00 dose
in 22:00-08:00) came first: the reminder arrived unannounced, and the notice an hour later read
as stale, or, expired, never came. What a patient expects is to be told before their reminders
start again, and not at night for nothing. So: outside quiet hours the notice goes at the end, as
before; inside them it waits for their end, unless a reminder is due before that, and then it
goes right before that reminder (:data:`NOTICE_LEAD`), with its claim priority and quiet hours
lifted (``urgent``), since the reminder wakes them then anyway.

Decided when the tick ends the pause, after its re-plan (the first reminder is known then); a
later change of the patient's times leaves the notice where it was put.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.planning_peaks import patient_quiet
from scheduler.quiet_hours import PATIENT_CHOSEN_KINDS, deferral_end

__all__ = ["NOTICE_LEAD", "NoticeSlot", "notice_slot", "pause_notice_slot"]

# How long before the first reminder the notice goes when quiet hours would have held it past
# that reminder: time to read it first, not a separate wake-up.
NOTICE_LEAD = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class NoticeSlot:
    """When the notice is due, its claim priority, and whether quiet hours may hold it."""

    at: datetime
    priority: int
    urgent: bool


def notice_slot(
    now: datetime,
    priority: int,
    quiet_end: datetime | None,
    first_reminder: tuple[datetime, int] | None,
) -> NoticeSlot:
    """The notice's slot for a pause that ends at ``now``. ``quiet_end``: the end of the quiet
    window ``now`` is in (None: not in one); ``first_reminder``: the patient's first reminder
    sent at a time they chose, with its priority (None: none planned)."""
    if quiet_end is None or first_reminder is None or first_reminder[0] >= quiet_end:
        # Sent now, or held by the dispatcher until the window ends, before any reminder.
        return NoticeSlot(now, priority, urgent=False)
    at, reminder_priority = first_reminder
    # Claims go by priority, then time: with the reminder's priority and a minute before it,
    # the notice is claimed first even when both are overdue (a worker back from an outage).
    return NoticeSlot(max(now, at - NOTICE_LEAD), min(priority, reminder_priority), urgent=True)


async def pause_notice_slot(
    conn: asyncpg.Connection,
    patient: Mapping[str, Any],
    now: datetime,
    priority: int,
    default_quiet: tuple[time, time],
) -> NoticeSlot:
    """:func:`notice_slot` for ``patient`` (a row of ``planner.sql: ended_pauses``), read after
    their re-plan: their quiet window (their own, else their clinic's, else ``default_quiet``)
    in their zone, and their first pending reminder."""
    patient_id: UUID = patient["id"]
    quiet_end = deferral_end(now, patient_quiet(patient, default_quiet), (patient["timezone"],))
    first = None
    if quiet_end is not None:
        row = await conn.fetchrow(
            query("planner", "first_chosen_reminder"), patient_id, sorted(PATIENT_CHOSEN_KINDS)
        )
        first = (row["scheduled_time"], int(row["priority"])) if row is not None else None
    return notice_slot(now, priority, quiet_end, first)
