"""Whether a claimed message may go now: expired, withheld, already answered, or quiet hours.

:func:`held_back` is the check :class:`~scheduler.delivery.Deliverer` makes before it routes a
claim: it returns the result that ends the claim unsent (expired, cancelled, or deferred to the end
of the recipient's quiet window, never counted as an attempt), or None when the message may go.

The claim's view of the patient is as old as the claim, and a send may wait most of its lease for a
rate limit: the pause, erasure, consent, the contact point's opt-out, the dose's answer and its
medicine's status are read again right before the provider is called (:mod:`scheduler.send_checks`,
in batches) and :func:`verdict_at_send` decides, so a /pause, STOP or /meds delete that lands after
the claim still stops it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from uuid import UUID

import asyncpg

from core.records import FINAL_APPOINTMENT_STATUSES
from scheduler import metrics
from scheduler.claims import Claim, Outcome
from scheduler.delivery_results import DeliveryResult, pending
from scheduler.dispatch_config import DispatcherConfig
from scheduler.expiry import expiry_time
from scheduler.holds import withheld_reason
from scheduler.quiet_hours import (
    DEFERRED_REASON,
    appointment_hold,
    deferral_end,
    is_deferrable,
    recipient_window,
)

# A reminder or follow-up is only worth sending while its dose awaits an answer (a caregiver
# alert, by contrast, is about a dose that was missed).
DOSE_PROMPT_KINDS = frozenset({"medication_reminder", "dose_followup"})
OPEN_DOSE_STATUSES = ("due", "snoozed")
# A caregiver's alert says the patient has not confirmed a dose: not once the dose is answered
# (a late Taken or Skip), nor about a medicine paused or deleted since it was planned.
# Not its update (caregiver_dose_update, "she has now taken it"): an answered dose is its point.
CAREGIVER_ALERT_KINDS = frozenset({"missed_dose_caregiver"})
ANSWERED_DOSE_STATUSES = ("taken", "skipped", "cancelled")
# Messages that presuppose their appointment still stands: a confirmation request, a reminder, a
# reschedule notice. Cancelled (or over) since it was planned, a deferred or delayed one came at
# 08:00 beside the cancellation notice ("confirmed" and "cancelled" together: found by a
# clinician cancelling within a second of booking in the patient's quiet hours). The
# cancellation notice itself still goes.
APPOINTMENT_PROMPT_KINDS = frozenset(
    {"appointment_confirmation", "appointment_reminder", "appointment_rescheduled"}
)
# last_error of a row withheld by the patient's (or clinic's) opt-out of its category.
OPTED_OUT_REASON = "opted out of this category of messages"
# last_error of a follow-up planned before the patient's quiet window and due out of it, that
# could only have gone inside it (sent late).
LATE_INTO_QUIET_REASON = "quiet hours began before it could be sent"


def held_back(c: Claim, now: datetime, config: DispatcherConfig) -> DeliveryResult | None:
    """The result that ends ``c`` unsent at ``now``, or None when it may be sent."""
    return _expired(c, now) or _withheld(c) or _quiet(c, now, config)


def _expired(c: Claim, now: datetime) -> DeliveryResult | None:
    if now >= expiry_time(c.kind, c.scheduled_time, c.expires_at, c.appointment_starts_at):
        metrics.EXPIRED.inc()
        return DeliveryResult(
            Outcome(
                c.id,
                c.lease_token,
                "expired",
                attempts_delta=-1,
                last_error="expired before it could be sent",
            )
        )
    return None


def _withheld(c: Claim) -> DeliveryResult | None:
    """Cancelled: paused, no consent, erased, the dose answered or its medicine paused or deleted
    since the row was made."""
    withheld = withheld_reason(
        c.kind,
        patient_status=c.patient_status,
        reminders_paused=c.reminders_paused,
        consented=c.consented,
        paused_by=c.reminders_paused_by,
    )
    if withheld is None and c.category_opted_out:
        withheld = OPTED_OUT_REASON
    if withheld is not None:
        # Paused, no consent, or erased after this row was created: whatever path made it.
        return _cancelled(c, withheld)
    about_a_dose = c.kind in DOSE_PROMPT_KINDS or c.kind in CAREGIVER_ALERT_KINDS
    if about_a_dose and c.medication_status not in (None, "active"):
        # The medicine was paused or deleted (/meds, the dashboard, the API) after this reminder
        # or alert was made: nothing more is said about it, snoozed reminder, nag or caregiver
        # alert alike (the patient could not even confirm the dose of a deleted medicine).
        return _cancelled(c, f"medicine {c.medication_status}")
    if c.kind in DOSE_PROMPT_KINDS and c.dose_status not in (None, *OPEN_DOSE_STATUSES):
        # Answered (or missed) after this reminder was claimed: a nag now would be wrong.
        return _cancelled(c, f"dose already {c.dose_status}")
    if c.kind in APPOINTMENT_PROMPT_KINDS and c.appointment_status in FINAL_APPOINTMENT_STATUSES:
        return _cancelled(c, f"appointment {c.appointment_status}")
    if c.kind in CAREGIVER_ALERT_KINDS and c.dose_status in ANSWERED_DOSE_STATUSES:
        # A late answer cancels the planned alert (record_final_dose_answer); one that lands
        # after the claim, or a dose changed by another path, is caught here.
        return _cancelled(c, f"dose already {c.dose_status}")
    return None


def _cancelled(c: Claim, reason: str) -> DeliveryResult:
    """Ends ``c`` unsent for ``reason`` (its ``last_error``), not counted as an attempt."""
    return DeliveryResult(
        Outcome(c.id, c.lease_token, "cancelled", attempts_delta=-1, last_error=reason)
    )


def _quiet(c: Claim, now: datetime, config: DispatcherConfig) -> DeliveryResult | None:
    if c.kind == "dose_followup" and not c.urgent and _late_into_quiet(c, now, config):
        return _cancelled(c, LATE_INTO_QUIET_REASON)
    deferred = quiet_deferral(c, now, config)
    if deferred is not None:
        metrics.DEFERRED.inc()
        return DeliveryResult(
            Outcome(
                c.id,
                c.lease_token,
                "pending",
                next_time=deferred,
                attempts_delta=-1,
                last_error=DEFERRED_REASON,
            )
        )
    return None


def followup_window(c: Claim, config: DispatcherConfig) -> tuple[time, time] | None:
    """The quiet window the planner kept ``c``'s follow-ups out of (``planner.sql: open_doses``
    and ``planning_followups``): the patient's own ends, else the clinic's default ones; for a
    patient of no clinic without a window of their own, the service's. None: no window."""
    if c.organization_id is None and c.quiet_start is None:
        return config.quiet_start, config.quiet_end
    start = c.quiet_start if c.quiet_start is not None else c.default_quiet_start
    end = c.quiet_end if c.quiet_end is not None else c.default_quiet_end
    return None if start is None or end is None else (start, end)


def _late_into_quiet(c: Claim, now: datetime, config: DispatcherConfig) -> bool:
    """Whether follow-up ``c``, planned before the patient's quiet window, would go inside it.

    Follow-ups are not deferred (the patient chose the reminder's time), but the planner plans
    none inside the window, and the bot says so ("Follow-ups of 9:52 PM stop at 10:30 PM, when
    your quiet hours begin"). One sent late (a worker back from an outage, a backlog) went at
    10:33 PM all the same (found by tests/bot/test_patients_across_zones_stateful.py). One the
    planner placed inside the window on purpose (its reminder was due inside it: the patient
    chose that time) still goes.
    """
    window = followup_window(c, config)
    if window is None:
        return False
    zones = (c.timezone,)
    return (
        deferral_end(now, window, zones) is not None
        and deferral_end(c.scheduled_time, window, zones) is None
    )


def quiet_deferral(c: Claim, now: datetime, config: DispatcherConfig) -> datetime | None:
    """The end of the recipient's quiet window if ``now`` is inside it (None: send now).

    A patient's message: the patient's own window, else their clinic's default, else the
    service default, in the patient's timezone. A caregiver's: the patient's own window is
    the patient's night, not the caregiver's, so the clinic's default, else the service
    default, in the caregiver's timezone (the patient's when the caregiver has none). A message
    about an appointment waits only for an end that leaves time to get there
    (:func:`scheduler.quiet_hours.appointment_hold`); else it goes now.
    """
    if not is_deferrable(c.kind, c.urgent):
        return None
    caregiver = c.caregiver_id is not None
    window = recipient_window(
        caregiver=caregiver,
        own=(c.quiet_start, c.quiet_end),
        clinic=(c.default_quiet_start, c.default_quiet_end),
        service=(config.quiet_start, config.quiet_end),
    )
    zones = (c.caregiver_timezone, c.timezone) if caregiver else (c.timezone,)
    return appointment_hold(deferral_end(now, window, zones), c.kind, c.appointment_starts_at)


# The database errors that leave a send unchecked (and so unsent: back to pending).
AT_SEND_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def unchecked_at_send(c: Claim, exc: BaseException) -> DeliveryResult:
    """Back to pending: nothing is sent that could not be checked."""
    error = f"could not re-check the patient before the send ({type(exc).__name__})"
    return pending(c, error, c.channels_tried, [])


def verdict_at_send(
    c: Claim, contact_id: UUID | None, row: Mapping[str, Any] | None
) -> DeliveryResult | None:
    """What the patient's state right before the send (``row``, see ``dispatch.sql:
    hold_at_send``; None: the patient is gone) makes of ``c``, a claim :func:`held_back` let
    through: a result that stops it, or None.

    Paused, erased, consent withdrawn, the category opted out, the dose answered or its medicine
    paused or deleted since the claim: cancelled, as at the claim. The contact point opted out,
    blocked or deactivated since: back to pending unsent, so the next claim routes around it (or
    fails with the reason). A bot reply to a chat without a patient has no patient to re-check (its
    erasure deletes the row).
    """
    if c.patient_id is None:
        return None
    if row is None:
        stopped: DeliveryResult | None = _withheld(dataclasses.replace(c, patient_status="deleted"))
    elif (
        row["patient_status"],
        row["reminders_paused"],
        row["reminders_paused_by"],
        row["consented"],
        row["dose_status"],
        row["medication_status"],
        row["category_opted_out"],
        row["appointment_status"],
    ) == (
        c.patient_status,
        c.reminders_paused,
        c.reminders_paused_by,
        c.consented,
        c.dose_status,
        c.medication_status,
        c.category_opted_out,
        c.appointment_status,
    ):
        # Unchanged since the claim, which held_back passed: no copy of the claim (48 fields)
        # for the common case.
        stopped = None
    else:
        stopped = _withheld(
            dataclasses.replace(
                c,
                patient_status=row["patient_status"],
                reminders_paused=row["reminders_paused"],
                reminders_paused_by=row["reminders_paused_by"],
                consented=row["consented"],
                dose_status=row["dose_status"],
                medication_status=row["medication_status"],
                category_opted_out=row["category_opted_out"],
                appointment_status=row["appointment_status"],
            )
        )
    if stopped is not None:
        metrics.WITHHELD_AT_SEND.inc()
        return stopped
    if row is not None and contact_id is not None and not row["contact_usable"]:
        metrics.WITHHELD_AT_SEND.inc()
        error = "the contact point opted out or was blocked after the claim"
        return pending(c, error, c.channels_tried, [])
    return None
