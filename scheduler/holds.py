"""Pause, consent and erasure: what they withhold, at pause time and again at send time.

A pause holds everything medication-related: reminders (snoozed ones too), follow-ups (nags),
caregiver alerts about missed doses and refill notices. :func:`pause_reminders` withdraws what
is pending at once (a dose already due stays open: the patient may still answer it); the
dispatcher asks :func:`withheld_reason` for every claimed row, so a row created or claimed by
any other path (a planner tick that read the patient before the pause, a snooze pressed a
second earlier, an integration's insert) is cancelled rather than sent.
:func:`resume_reminders` plans again from the moment of the resume: nothing missed while paused
is sent late (a reminder withheld from a dose still open comes back: a snooze at its time when
still ahead, at once when its time passed while paused; the reminder of a dose due at the /pause
at once; never once the dose reached its missed mark). A pause with an end is resumed by that
same function when the end passes (:mod:`scheduler.pause_ends`, the planner's tick).

Without consent a patient is sent nothing but service notices (``system``); a deleted patient
is sent nothing.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.clinic_pause_notice import withdraw_clinic_notice
from scheduler.pause_lift import lift_pause
from scheduler.planner import replan_patient
from scheduler.planning_peaks import PeakCapacity
from scheduler.planning_rules import CLINIC_PAUSE_REASON, HELD_PAUSE_REASON, PAUSE_REASON

__all__ = [
    "MEDICATION_KINDS",
    "PAUSE_REASON",
    "PausedBy",
    "pause_reason",
    "pause_reminders",
    "resume_reminders",
    "withheld_reason",
]

# The kinds a pause holds (scheduled_messages.kind). Not a caregiver's update that the patient
# took a dose after all (caregiver_dose_update): it corrects an alert already sent, and a caregiver
# left with "missed" might give the pill again.
MEDICATION_KINDS = frozenset(
    {"medication_reminder", "dose_followup", "missed_dose_caregiver", "refill_reminder"}
)
# last_error of a previous pause's "reminders are back on" still waiting when a new pause began.
NEW_PAUSE_REASON = "a new pause began before it was sent"
# last_error of the clinic's "paused" notice still waiting when the reminders were resumed.
RESUMED_REASON = "the reminders were resumed before it was sent"
# What a patient without consent may still be sent: the service's own notices (an invitation).
CONSENT_FREE_KINDS = frozenset({"system"})

# Who paused: the patient (/pause, the app, a merge keeping their pause) or their clinic (the
# API's PATCH, the dashboard). The withdrawn rows say so (their last_error).
PausedBy = Literal["patient", "clinic"]


def pause_reason(paused_by: str | None) -> str:
    """The reason a row withheld by a pause ends with: who paused ("patient", "clinic"), else
    (a pause older than ``patients.reminders_paused_by``) the plain reason."""
    if paused_by == "clinic":
        return CLINIC_PAUSE_REASON
    if paused_by == "patient":
        return PAUSE_REASON
    return HELD_PAUSE_REASON


def withheld_reason(
    kind: str,
    *,
    patient_status: str,
    reminders_paused: bool,
    consented: bool,
    paused_by: str | None = None,
) -> str | None:
    """Why a message of ``kind`` must not go to this patient now (None: it may).

    ``paused_by``: who paused (``patients.reminders_paused_by``), named in the reason as a
    withdrawal names it; None (a pause older than that column) gives the plain reason."""
    if patient_status == "deleted":
        return "patient deleted"
    if not consented and kind not in CONSENT_FREE_KINDS:
        return "no consent recorded for the patient"
    if reminders_paused and kind in MEDICATION_KINDS:
        return pause_reason(paused_by)
    return None


async def pause_reminders(
    conn: asyncpg.Connection,
    patient_id: UUID,
    now: datetime,
    *,
    until: datetime | None = None,
    by: PausedBy = "patient",
) -> int:
    """Pause the patient's reminders and withdraw every pending medication message.

    ``until``: when the pause ends by itself (:mod:`scheduler.pause_ends` resumes the patient
    then); None keeps it open until a resume. A pause while paused replaces the end.

    A dose already due (due or snoozed) stays open, so the patient can still answer it (from
    /today, its reminder's buttons or number; cancelling it lost the answer): it gets no
    follow-up while paused and, unanswered, is missed at its usual time without a caregiver
    alert. A withdrawn refill notice is re-armed for after the resume. Future doses go with the
    re-plan. A previous pause's "reminders are back on" still waiting is cancelled (the bot's
    or the clinic's, :mod:`scheduler.clinic_pause_notice`). The withdrawn rows' reason says who
    paused (``by``). Returns how many messages were withdrawn. Runs in one transaction (a
    savepoint in the caller's).
    """
    async with conn.transaction():
        if until is not None and until <= now:
            raise ValueError("until: the pause would end before it starts; pass a later instant")
        await conn.execute(query("planner", "set_reminders_paused"), patient_id, True, until, by)
        await conn.execute(query("planner", "withdraw_pause_ended"), patient_id, NEW_PAUSE_REASON)
        await withdraw_clinic_notice(conn, patient_id, "clinic_resumed", NEW_PAUSE_REASON)
        withdrawn: int = await conn.fetchval(
            query("planner", "withdraw_medication_messages"),
            patient_id,
            list(MEDICATION_KINDS),
            pause_reason(by),
            now,
        )
        await replan_patient(conn, patient_id, now)
    return withdrawn


async def resume_reminders(
    conn: asyncpg.Connection,
    patient_id: UUID,
    now: datetime,
    *,
    default_quiet: tuple[time, time] | None = None,
    capacity: PeakCapacity | None = None,
) -> None:
    """Resume the patient's reminders, planned from ``now`` on.

    A reminder the pause withheld from a dose still open comes back
    (:func:`scheduler.pause_lift.lift_pause`, which the end of a pause with an end runs too).
    ``capacity``: the bots' (the early window in a forecast peak, as the planner's tick). The
    clinic's "paused" notice still waiting is cancelled: it would say they are off."""
    async with conn.transaction():
        await withdraw_clinic_notice(conn, patient_id, "clinic_paused", RESUMED_REASON)
        await lift_pause(conn, patient_id, now)
        await replan_patient(conn, patient_id, now, default_quiet=default_quiet, capacity=capacity)
