"""A clinic pausing a patient's reminders: ``reminders_paused`` and ``reminders_paused_until`` in
``PATCH /api/v1/patients/{patient_id}``.

The same pause as the patient's own /pause and /resume in the bot (:mod:`scheduler.holds`):
pausing withdraws what is pending and holds every medication message; an end makes the pause end
by itself (:mod:`scheduler.pause_ends`: the reminders come back and the patient is told, as after
"/pause 3 days"); resuming brings back what the pause withheld from doses still open and plans
from now on, and the end goes with the pause. Before, a clinic's system could read a pause but not
set one (a patient going into hospital had to be paused through the bot or the dashboard).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from core.settings import Settings
from medremind.web.errors import ValidationFailed
from scheduler.clinic_pause_notice import tell_clinic_pause
from scheduler.holds import pause_reminders, resume_reminders
from scheduler.planning_peaks import PeakCapacity

__all__ = ["PAUSE_FIELDS", "PauseChange", "apply_pause", "pause_change"]

# The PATCH fields this module takes.
PAUSE_FIELDS = frozenset({"reminders_paused", "reminders_paused_until"})


@dataclasses.dataclass(frozen=True)
class PauseChange:
    """What a PATCH asks of the pause: ``paused`` None leaves it as it is (only its end changes);
    ``until_given`` says whether the end was given (None then: until resumed)."""

    paused: bool | None
    until: datetime | None
    until_given: bool


def pause_change(
    given: set[str], paused: bool | None, until: datetime | None, now: datetime
) -> PauseChange | None:
    """The pause a PATCH body asks for (None: it names neither field), or a 422 naming the field
    and how to fix it. An end must be after ``now``: a pause that ended before it began would
    withdraw what is pending and then give the patient a "reminders are back on" at once."""
    if not given & PAUSE_FIELDS:
        return None
    until_given = "reminders_paused_until" in given
    if paused is False and until is not None:
        raise ValidationFailed(
            "reminders_paused_until",
            "is the end of a pause, and reminders_paused false resumes the reminders: leave"
            " reminders_paused_until out (or null) to resume, or set reminders_paused true to"
            " pause until then",
        )
    if until is not None and until <= now:
        raise ValidationFailed(
            "reminders_paused_until",
            f"is not in the future (it is now {now.isoformat().replace('+00:00', 'Z')}): a pause"
            " ends after it begins. Give a later instant with its UTC offset, such as"
            " 2027-03-15T08:00:00Z, or null for a pause until reminders_paused is set false",
        )
    return PauseChange(paused, until, until_given)


async def apply_pause(
    conn: asyncpg.Connection,
    patient: Any,
    change: PauseChange,
    now: datetime,
    settings: Settings,
) -> None:
    """Pause or resume ``patient`` (their current row) as ``change`` asks, in the caller's
    transaction. Asking for what already holds changes nothing (an integration that sends its
    whole view of the patient on every sync re-plans nobody): ``reminders_paused: true`` alone on
    a paused patient keeps their end, ``false`` on one not paused does nothing. A change is told
    to the patient (:mod:`scheduler.clinic_pause_notice`); nothing changed, nothing is sent."""
    patient_id: uuid.UUID = patient["id"]
    paused_now: bool = patient["reminders_paused"]
    if change.paused is False:
        if paused_now:
            # Told first: it sees whether the "paused" notice is still waiting (then neither goes).
            await tell_clinic_pause(conn, patient_id, now, paused=False)
            await resume_reminders(
                conn,
                patient_id,
                now,
                default_quiet=(settings.quiet_hours_start, settings.quiet_hours_end),
                capacity=PeakCapacity.from_settings(settings),
            )
        return
    if change.paused is None and not paused_now:
        raise ValidationFailed(
            "reminders_paused_until",
            "is the end of a pause, and the patient's reminders are not paused: send"
            " reminders_paused true with it to pause them until then",
        )
    if paused_now and (not change.until_given or change.until == patient["reminders_paused_until"]):
        return
    # A pause, or a new end of the pause (null: until resumed), as a second /pause replaces it.
    await pause_reminders(conn, patient_id, now, until=change.until, by="clinic")
    # The patient did not ask for it: tell them (scheduler/clinic_pause_notice.py).
    await tell_clinic_pause(conn, patient_id, now, paused=True, until=change.until)
