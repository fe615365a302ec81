"""Whether a claimed message may go now: expired, withheld, already answered, or quiet hours.

:func:`held_back` is the check :class:`~scheduler.delivery.Deliverer` makes before it routes a
claim: it returns the result that ends the claim unsent (expired, cancelled, or deferred to the end
of the recipient's quiet window, never counted as an attempt), or None when the message may go.
"""

from __future__ import annotations

from datetime import datetime

from scheduler import metrics
from scheduler.claims import Claim, Outcome
from scheduler.delivery_results import DeliveryResult
from scheduler.dispatch_config import DispatcherConfig
from scheduler.expiry import expiry_time
from scheduler.holds import withheld_reason
from scheduler.quiet_hours import is_deferrable, quiet_window_end

# A reminder or follow-up is only worth sending while its dose awaits an answer (a caregiver
# alert, by contrast, is about a dose that was missed).
DOSE_PROMPT_KINDS = frozenset({"medication_reminder", "dose_followup"})
OPEN_DOSE_STATUSES = ("due", "snoozed")
# last_error of a row withheld by the patient's (or clinic's) opt-out of its category.
OPTED_OUT_REASON = "opted out of this category of messages"


def held_back(c: Claim, now: datetime, config: DispatcherConfig) -> DeliveryResult | None:
    """The result that ends ``c`` unsent at ``now``, or None when it may be sent."""
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
    withheld = withheld_reason(
        c.kind,
        patient_status=c.patient_status,
        reminders_paused=c.reminders_paused,
        consented=c.consented,
    )
    if withheld is None and c.category_opted_out:
        withheld = OPTED_OUT_REASON
    if withheld is not None:
        # Paused, no consent, or erased after this row was created: whatever path made it.
        return DeliveryResult(
            Outcome(c.id, c.lease_token, "cancelled", attempts_delta=-1, last_error=withheld)
        )
    if c.kind in DOSE_PROMPT_KINDS and c.dose_status not in (None, *OPEN_DOSE_STATUSES):
        # Answered (or missed) after this reminder was claimed: a nag now would be wrong.
        return DeliveryResult(
            Outcome(
                c.id,
                c.lease_token,
                "cancelled",
                attempts_delta=-1,
                last_error=f"dose already {c.dose_status}",
            )
        )
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
                last_error="deferred to the end of quiet hours",
            )
        )
    return None


def quiet_deferral(c: Claim, now: datetime, config: DispatcherConfig) -> datetime | None:
    """The end of the recipient's quiet window if ``now`` is inside it (None: send now).

    A patient's message: the patient's own window, else their clinic's default, else the
    service default, in the patient's timezone. A caregiver's: the patient's own window is
    the patient's night, not the caregiver's, so the clinic's default, else the service
    default, in the caregiver's timezone (the patient's when the caregiver has none).
    """
    if not is_deferrable(c.kind, c.urgent):
        return None
    caregiver = c.caregiver_id is not None
    if not caregiver and c.quiet_start is not None and c.quiet_end is not None:
        start, end = c.quiet_start, c.quiet_end
    elif c.default_quiet_start is not None and c.default_quiet_end is not None:
        start, end = c.default_quiet_start, c.default_quiet_end
    else:
        start, end = config.quiet_start, config.quiet_end
    zones = (c.caregiver_timezone, c.timezone) if caregiver else (c.timezone,)
    for zone in zones:
        if zone:
            try:
                return quiet_window_end(now, zone, start, end)
            except (ValueError, KeyError):  # an unknown timezone must not block delivery
                continue
    return quiet_window_end(now, "UTC", start, end)
