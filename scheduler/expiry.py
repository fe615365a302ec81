"""When a message is too late to be worth sending: its ``expires_at``, or a per-kind default."""

from __future__ import annotations

from datetime import datetime, timedelta

# A reminder an hour late is noise at best and a double dose at worst.
DEFAULT_EXPIRY: dict[str, timedelta] = {
    "medication_reminder": timedelta(hours=2),
    "dose_followup": timedelta(hours=1),
    "missed_dose_caregiver": timedelta(hours=6),
    # "She has now taken it": worth it while the alert it corrects is (migration 20260101018180).
    "caregiver_dose_update": timedelta(hours=6),
    "refill_reminder": timedelta(days=2),
}
FALLBACK_EXPIRY = timedelta(hours=24)


def expiry_time(
    kind: str,
    scheduled_time: datetime,
    expires_at: datetime | None,
    appointment_starts_at: datetime | None = None,
) -> datetime:
    """The moment after which the message must not be sent."""
    if expires_at is not None:
        return expires_at
    if kind == "appointment_reminder" and appointment_starts_at is not None:
        return appointment_starts_at
    return scheduled_time + DEFAULT_EXPIRY.get(kind, FALLBACK_EXPIRY)


def is_expired(
    now: datetime,
    kind: str,
    scheduled_time: datetime,
    expires_at: datetime | None,
    appointment_starts_at: datetime | None = None,
) -> bool:
    """Whether a message due at ``scheduled_time`` may no longer be sent at ``now``."""
    return now >= expiry_time(kind, scheduled_time, expires_at, appointment_starts_at)
