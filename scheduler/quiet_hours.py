"""Quiet hours: when a non-urgent message must wait until morning, in the recipient's timezone.

An appointment's messages wait only while the wait leaves time to get to it
(:func:`appointment_hold`).

Pure functions over aware datetimes; windows may cross midnight (21:00-08:00). A window whose start
equals its end is empty (quiet hours off).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.appointment_times import APPOINTMENT_KINDS

# last_error of a message the dispatcher put back to the end of its recipient's quiet window.
DEFERRED_REASON = "deferred to the end of quiet hours"
# Kinds sent at times the patient chose themselves: never deferred, they asked for that time.
PATIENT_CHOSEN_KINDS = frozenset({"medication_reminder", "dose_followup"})
# Messages about an appointment expire at its start (scheduler.expiry). Quiet hours hold one only
# to a window end at least this long before the appointment; otherwise it goes at once, inside
# the window: a 2-hour reminder of a 03:00 appointment (a patient in New York, a clinic in
# Madrid at 09:00) due at 01:00 in 21:00-08:00 used to wait for 08:00, expire unsent at 03:00,
# and the appointment was missed. A message in the night beats a missed appointment; an hour
# is what getting there (or to the video call) takes at the least.
APPOINTMENT_LEAD = timedelta(hours=1)


def is_deferrable(kind: str, urgent: bool) -> bool:
    """Whether quiet hours apply to a message of ``kind``."""
    return not urgent and kind not in PATIENT_CHOSEN_KINDS


def quiet_window_end(at: datetime, timezone: str, start: time, end: time) -> datetime | None:
    """If ``at`` falls inside the daily quiet window [start, end) in ``timezone``, its end (UTC).

    Returns None outside the window. Raises ValueError for a naive ``at``.
    """
    if at.tzinfo is None:
        raise ValueError("quiet_window_end needs an aware datetime")
    if start == end:
        return None
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start < end:
        if not start <= now < end:
            return None
        day = local.date()
    elif now >= start:  # evening part of a window that crosses midnight
        day = local.date() + timedelta(days=1)
    elif now < end:  # morning part
        day = local.date()
    else:
        return None
    # A wall time that does not exist (DST gap) resolves forward via the UTC round trip.
    ends = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
    if ends <= at:
        # The end happens twice (clocks fall back) and ``at`` is in the repeated hour, after its
        # first occurrence: the window ends at the second. The first, already past, deferred
        # the message to a time gone by: due again at once, claimed, deferred again, a claim
        # and a record per message in a loop until the wall clock passed the end once more
        # (02:10 CET in 22:00-02:30, Madrid, 2027-10-31: 20 minutes).
        ends = datetime.combine(day, end, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return ends if ends > at else None


Window = tuple[time | None, time | None]


def recipient_window(
    *, caregiver: bool, own: Window, clinic: Window, service: tuple[time, time]
) -> tuple[time, time]:
    """The quiet window a message waits out: a patient's own (both ends set), else the clinic's
    default, else the service's. A caregiver's alert never takes the patient's own window: that is
    the patient's night, not the caregiver's."""
    if not caregiver and own[0] is not None and own[1] is not None:
        return own[0], own[1]
    if clinic[0] is not None and clinic[1] is not None:
        return clinic[0], clinic[1]
    return service


def deferral_end(
    at: datetime, window: tuple[time, time], zones: tuple[str | None, ...]
) -> datetime | None:
    """The end of ``window`` if ``at`` is inside it in the first of ``zones`` that is a known
    timezone (else UTC: an unknown zone must not block delivery); None: send at ``at``."""
    start, end = window
    for zone in zones:
        if zone:
            try:
                return quiet_window_end(at, zone, start, end)
            except (ValueError, KeyError):
                continue
    return quiet_window_end(at, "UTC", start, end)


def appointment_hold(
    end: datetime | None, kind: str, appointment_starts_at: datetime | None
) -> datetime | None:
    """``end`` (the quiet window's end a message would wait for), or None (send now) when the
    message is about an appointment and waiting would leave less than :data:`APPOINTMENT_LEAD`
    before it starts."""
    if (
        end is not None
        and appointment_starts_at is not None
        and kind in APPOINTMENT_KINDS
        and end > appointment_starts_at - APPOINTMENT_LEAD
    ):
        return None
    return end
