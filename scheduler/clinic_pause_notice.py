"""Telling a patient that their clinic paused or resumed their reminders.

A clinic pauses a patient (``PATCH /api/v1/patients/{id}``,
:mod:`medremind.web.api_v1.patient_pause`) without the patient doing anything: reminders that
stop without a word read as being forgotten, and ones that come back unannounced are easy to
miss. So each change the clinic makes queues one service notice (kind ``system``) on the
patient's preferred channel, in their language: ``clinic_paused`` ("... paused your medication
reminders until <end in your zone>" / "until they resume them") or ``clinic_resumed``. Like
``pause_ended`` it is held by the patient's quiet hours (a service notice is deferrable,
:mod:`scheduler.quiet_hours`), so a pause set at night is said in the morning; a "paused until"
expires at that end (the end's own ``pause_ended`` says the rest). Only the latest change is
told: one still waiting is cancelled by the next, and a resume whose "paused" was never sent is
not announced at all. The patient's own /pause and /resume are answered by the bot instead, and
cancel a "resumed" or "paused" still waiting, which they made untrue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.sql import query

__all__ = ["CLINIC_NOTICE_TTL", "tell_clinic_pause", "withdraw_clinic_notice"]

# Worth sending for a day, as "reminders are back on" (scheduler/pause_ends.py).
CLINIC_NOTICE_TTL = timedelta(hours=24)
# As "reminders are back on": after the reminders and appointments.
CLINIC_NOTICE_PRIORITY = 5
# last_error of a notice still waiting when the clinic changed the pause again.
SUPERSEDED_REASON = "the clinic changed the pause again before it was sent"
NOTICES = ("clinic_paused", "clinic_resumed")


async def withdraw_clinic_notice(
    conn: asyncpg.Connection, patient_id: UUID, template: str, reason: str
) -> None:
    """Cancel the patient's clinic notice ``template`` still waiting, with ``reason``: the
    patient's own /pause makes a "resumed" untrue, their /resume a "paused"
    (:mod:`scheduler.holds`)."""
    await conn.execute(
        query("planner", "withdraw_clinic_pause_notices"), patient_id, reason, [template]
    )


async def tell_clinic_pause(
    conn: asyncpg.Connection,
    patient_id: UUID,
    now: datetime,
    *,
    paused: bool,
    until: datetime | None = None,
) -> bool:
    """Queue the patient's notice that their clinic paused (until ``until``, None: until
    resumed) or resumed their reminders at ``now``, in the caller's transaction. Call it only
    when the pause changed. Returns whether a notice was queued (not for a resume whose
    "paused" notice was still waiting: cancelled, the patient heard of neither)."""
    cancelled = {
        r["template"]
        for r in await conn.fetch(
            query("planner", "withdraw_clinic_pause_notices"),
            patient_id,
            SUPERSEDED_REASON,
            list(NOTICES),
        )
    }
    if not paused and "clinic_paused" in cancelled:
        return False
    expires = now + CLINIC_NOTICE_TTL
    if paused and until is not None:
        expires = min(expires, until)
    payload = {"ends_at": until.isoformat()} if paused and until is not None else {}
    await conn.execute(
        query("planner", "tell_clinic_pause"),
        patient_id,
        "clinic_paused" if paused else "clinic_resumed",
        payload,
        now,
        expires,
        CLINIC_NOTICE_PRIORITY,
    )
    return True
