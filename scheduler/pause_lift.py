"""Lifting a pause: what /resume and a pause's end both do before the patient is re-planned.

Apart from :mod:`scheduler.holds` (which re-plans through :mod:`scheduler.planner`) so that the
planner's tick can lift ended pauses (:mod:`scheduler.pause_ends`) without an import cycle: the
tick re-plans with its own :func:`scheduler.planner.replan_patient`, as
:func:`scheduler.holds.resume_reminders` does.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.planning_rules import PAUSE_REASONS, unsent_missed_at

__all__ = ["lift_pause"]


async def lift_pause(conn: asyncpg.Connection, patient_id: UUID, now: datetime) -> None:
    """Unpause the patient (the pause's end goes too) and bring back what the pause withheld
    from doses still open (:func:`_bring_back_reminders`); the caller re-plans."""
    await conn.execute(query("planner", "set_reminders_paused"), patient_id, False, None, None)
    await _bring_back_reminders(conn, patient_id, now)


async def _bring_back_reminders(conn: asyncpg.Connection, patient_id: UUID, now: datetime) -> None:
    """The reminders the pause withheld from doses still open, back: at their time when it is
    still ahead (a snooze); at once (``now``, once: the same row) when it passed during the pause
    but the dose is not missed yet: a snooze the patient asked for, or the dose's reminder that
    was still queued at the /pause or held back at its send. One whose dose reached its missed
    mark stays withdrawn: nothing comes after the dose counts as missed (nor does a caregiver
    alert: :mod:`scheduler.planning_followups`)."""
    back: list[tuple[UUID, datetime, datetime]] = []
    reasons = list(PAUSE_REASONS)
    for r in await conn.fetch(query("planner", "paused_reminders"), patient_id, reasons):
        if r["scheduled_time"] > now:
            if r["expires_at"] > now:
                back.append((r["id"], r["scheduled_time"], r["expires_at"]))
            continue
        anchor = r["snoozed_until"] if r["status"] == "snoozed" else r["due_at"]
        missed_at = unsent_missed_at(anchor, r["nag_interval_minutes"], r["nag_max"])
        if now < missed_at:
            # It expires at the missed mark, as a follow-up does.
            back.append((r["id"], now, missed_at))
    if back:
        ids, ats, expires = (list(c) for c in zip(*back, strict=True))
        await conn.execute(query("planner", "restore_paused_reminders"), ids, ats, expires)
