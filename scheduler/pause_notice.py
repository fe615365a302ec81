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

Decided when the tick ends the pause, after its re-plan (the first reminder is known then), and
again whenever the patient's reminders are re-planned while it waits (:func:`reslot_pause_notices`,
from the planner's reconcile: a reminder time moved in the bot, the API or by any other path, a
new quiet window or zone). It stayed where it was put: a 07:00 dose moved to 06:30 came before
the notice that announced it, and one moved to 09:00 left the notice waking the patient at 06:59
for nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.planning_peaks import patient_quiet
from scheduler.quiet_hours import PATIENT_CHOSEN_KINDS, deferral_end

__all__ = [
    "NOTICE_LEAD",
    "PAUSE_ENDED_PRIORITY",
    "NoticeSlot",
    "notice_slot",
    "pause_notice_slot",
    "reslot_pause_notices",
]

# How long before the first reminder the notice goes when quiet hours would have held it past
# that reminder: time to read it first, not a separate wake-up.
NOTICE_LEAD = timedelta(minutes=1)
# After the reminders and appointments (planning_rules), as a clinic's invitation is.
PAUSE_ENDED_PRIORITY = 5


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


async def reslot_pause_notices(
    conn: asyncpg.Connection,
    patient_ids: Sequence[UUID],
    now: datetime,
    default_quiet: tuple[time, time],
) -> int:
    """Move the "reminders are back on" still waiting of ``patient_ids``, whose reminders were
    just re-planned at ``now``, to where :func:`pause_notice_slot` puts it now: right before the
    first reminder it announces when that comes inside the quiet window, else to be held to the
    window's end. A notice held by quiet hours that stays so is left as it is. Returns how many
    moved. In the caller's transaction; a notice a worker has claimed is its own."""
    moved = 0
    for row in await conn.fetch(query("planner", "waiting_pause_notices"), list(patient_ids)):
        slot = await pause_notice_slot(conn, row, now, PAUSE_ENDED_PRIORITY, default_quiet)
        if not slot.urgent and not row["urgent"]:
            continue  # held to the window's end before and after: the dispatcher does that
        if (slot.at, slot.priority, slot.urgent) == (
            row["scheduled_time"],
            row["priority"],
            row["urgent"],
        ):
            continue
        await conn.execute(
            query("planner", "move_pause_notice"),
            row["notice_id"],
            slot.at,
            slot.priority,
            slot.urgent,
        )
        moved += 1
    return moved
