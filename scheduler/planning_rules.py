"""The planner's pure rules: which zone a schedule lives in, its recurrence, idempotency keys and
when follow-ups, the missed mark and the caregiver alert fall. No clock and no database here.

Timezone rule (travel):

- A schedule with its own ``timezone`` always uses it (a clinician pinned it on purpose).
- Otherwise, a patient in ``follow`` mode gets reminders at the same wall-clock times wherever they
  are now (``patients.timezone``): moving to another zone re-plans the future reminders there.
- A patient in ``home`` mode (the default) keeps the home zone while travelling:
  ``patients.home_timezone``, pinned to ``patients.timezone`` the first time the planner plans for
  the patient or the patient changes zone or mode in the bot (``core/sql/bot.sql``), and moved
  only on purpose: ``replan_patient(..., move_home=True)``, which the bot calls when a patient
  answers that they moved (not travelling) to a new zone (``bot/dialogs/zone_moves.py``).
  Switching to ``follow`` and back keeps the pinned home.

Follow-up rule (nag until acknowledged), counted from when the current reminder went out
(the dose's time, or the snooze time; later if the reminder itself left late):
follow-up ``k`` (1..``nag_max``) at ``start + k * interval``; the dose is missed at
``start + (nag_max + 1) * interval``; a caregiver is alerted ``alert_delay_minutes`` after that.
Follow-ups falling in the patient's quiet hours are not planned (the reminder itself is: the
patient chose that time), but the dose is still marked missed on time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from scheduler.recurrence import Recurrence

__all__ = [
    "CLINIC_PAUSE_REASON",
    "DEFAULT_HORIZON",
    "HELD_PAUSE_REASON",
    "PAUSE_REASON",
    "PAUSE_REASONS",
    "TIME_CRITICAL_PRIORITY",
    "NagPlan",
    "followup_key",
    "in_quiet_hours",
    "plan_nags",
    "recurrence_for",
    "reminder_key",
    "resolve_timezone",
    "unsent_missed_at",
]

# How far ahead reminders are materialized when the caller does not say (settings do, in ticks).
DEFAULT_HORIZON = timedelta(hours=48)
# last_error of rows withdrawn by a pause (scheduler/holds.py), saying who paused: the patient
# (/pause, the app) or their clinic (the API's PATCH, the dashboard). Clinicians read it on the
# patient's messages; "by the patient" on every withdrawal read as the patient's own doing.
PAUSE_REASON = "reminders paused by the patient"
CLINIC_PAUSE_REASON = "reminders paused by the clinic"
# last_error of a row held back at its claim or send by a pause already on (another path made
# it, or claimed it before the pause): the claim knows the pause, not who set it.
HELD_PAUSE_REASON = "reminders paused"
# Every pause's reason. A dose whose reminder ends with one was never reminded: missed, it
# alerts no caregiver (scheduler/planning_followups.py); a resume brings it back while the dose
# is open (scheduler/pause_lift.py).
PAUSE_REASONS = (PAUSE_REASON, CLINIC_PAUSE_REASON, HELD_PAUSE_REASON)
# A caregiver alert is still useful the same day, not the next.
CAREGIVER_ALERT_TTL = timedelta(hours=12)
# Lower runs first: doses before everything else, then caregivers, appointments, refills.
REMINDER_PRIORITY = 1
# A time-critical dose (insulin, anticonvulsants, Parkinson's medication): first in the claim
# order at its minute, with the bot replies (medications.time_critical; issue 20).
TIME_CRITICAL_PRIORITY = 0
FOLLOWUP_PRIORITY = 1
CAREGIVER_PRIORITY = 2
APPOINTMENT_PRIORITY = 3
REFILL_PRIORITY = 4


def resolve_timezone(
    schedule_timezone: str | None,
    patient_timezone: str,
    timezone_mode: str,
    home_timezone: str | None,
) -> str:
    """The IANA zone a schedule's wall-clock times are read in (see the module docstring)."""
    if schedule_timezone:
        return schedule_timezone
    if timezone_mode == "follow":
        return patient_timezone
    return home_timezone or patient_timezone


def recurrence_for(row: Mapping[str, Any], zone: str) -> Recurrence:
    """The recurrence of a ``reminder_schedules`` row read in ``zone``.

    Raises ``ValueError`` naming the field when the stored rule is not a valid recurrence.
    """
    days = row["days_of_week"]
    return Recurrence(
        times_of_day=tuple(row["times_of_day"]),
        timezone=zone,
        start_date=row["start_date"],
        end_date=row["end_date"],
        days_of_week=frozenset(days) if days else None,
        every_n_days=row["every_n_days"],
        max_count=row["max_count"],
    )


def reminder_key(schedule_id: UUID, local_date: date, local_time: time, version: int) -> str:
    """Idempotency key of a dose reminder: one per schedule, local date and time, and version.

    Must match the key the bulk insert builds in SQL (``core/sql/planner.sql``).
    """
    return f"dose:{schedule_id}:{local_date.isoformat()}:{local_time.isoformat()}:v{version}"


def followup_key(dose_event_id: UUID, generation: int, number: int) -> str:
    """Idempotency key of follow-up ``number`` of a dose; ``generation`` is 0 for the first
    reminder and the snooze time (epoch seconds) after a snooze, so nags restart after one."""
    return f"nag:{dose_event_id}:{generation}:{number}"


def in_quiet_hours(at: datetime, timezone: str, start: time | None, end: time | None) -> bool:
    """Whether ``at`` falls in the daily window ``[start, end)`` of local time in ``timezone``.

    The window may cross midnight (21:00-08:00); an empty one (start == end, or unset) is never
    quiet. Same rule as the dispatcher's deferral window.
    """
    if start is None or end is None or start == end:
        return False
    local = at.astimezone(ZoneInfo(timezone)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


@dataclass(frozen=True, slots=True)
class NagPlan:
    """Follow-ups of the current reminder of one dose, and when the dose counts as missed.

    ``followups`` are ``(number, scheduled_time)``, outside quiet hours unless the reminder itself
    was due in them; ``missed_at`` is None while the current reminder has not gone out (nothing
    to count from yet).
    """

    generation: int
    followups: tuple[tuple[int, datetime], ...]
    missed_at: datetime | None


def plan_nags(
    *,
    due_at: datetime,
    snoozed_until: datetime | None,
    reminder_status: str,
    reminder_sent_at: datetime | None,
    interval_minutes: int,
    nag_max: int,
    timezone: str,
    quiet_start: time | None,
    quiet_end: time | None,
) -> NagPlan:
    """The follow-up plan of an open dose whose latest reminder is in ``reminder_status``.

    A reminder that went out (sent, delivered) starts the count at ``max(anchor, sent_at)``; one
    that never will (failed, expired, cancelled) gets no follow-ups, but the dose is still missed
    on the same clock from its anchor; one still pending or in flight plans nothing yet.
    """
    anchor = snoozed_until if snoozed_until is not None else due_at
    generation = int(snoozed_until.timestamp()) if snoozed_until is not None else 0
    step = timedelta(minutes=interval_minutes)
    if reminder_status in ("sent", "delivered"):
        start = max(anchor, reminder_sent_at) if reminder_sent_at is not None else anchor
        # A reminder the patient chose inside their quiet hours (06:58 in 21:00-08:00, or a snooze
        # into them) brings its follow-ups along: they asked to be reminded then, and without
        # them the dose would go unnagged. Follow-ups of a reminder outside them stop there.
        if in_quiet_hours(anchor, timezone, quiet_start, quiet_end):
            quiet_start = quiet_end = None
        followups = tuple(
            (k, start + k * step)
            for k in range(1, nag_max + 1)
            if not in_quiet_hours(start + k * step, timezone, quiet_start, quiet_end)
        )
        return NagPlan(generation, followups, start + (nag_max + 1) * step)
    if reminder_status in ("failed", "expired", "cancelled"):
        return NagPlan(generation, (), unsent_missed_at(anchor, interval_minutes, nag_max))
    return NagPlan(generation, (), None)


def unsent_missed_at(anchor: datetime, interval_minutes: int, nag_max: int) -> datetime:
    """When a dose whose reminder never went out counts as missed: on the clock a sent one
    would have had, from ``anchor`` (the dose's time, or the snooze's)."""
    return anchor + (nag_max + 1) * timedelta(minutes=interval_minutes)
