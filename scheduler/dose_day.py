"""A dose's day, named in its reminder when the reminder goes out on another day than the dose's.

"Time for your 10:30 PM dose" read at 07:00 (a snooze that came back after midnight, a nag of
yesterday's dose past midnight) reads as today's dose, or as a new one, and may be taken twice.
So a reminder, follow-up or caregiver alert sent when the patient's date is not the dose's date,
in the patient's zone (the one the texts show times in, a caregiver's alert too), carries
``due_day`` ("Wed, March 4", :func:`core.template_filters.fmt_day`, the bot's answers' own
formatter), and the templates say "your 10:30 PM dose on Wed, March 4". On the dose's own day
nothing is added: the text is the same byte for byte as before.

``now`` decides: the send's moment. The worker's render ahead renders a message before it is due
(scheduler.render_ahead) at its ``scheduled_time``; the deliverer checks :func:`other_day` again
at the send and renders afresh when the patient's midnight fell between the two.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.template_filters import fmt_day

# The kinds whose text names a dose by its time: the reminder (its snooze's too), follow-ups and
# the caregiver's alert ("Ana has not confirmed the 11:30 PM dose", held by the caregiver's quiet
# hours until 8:00 AM, reads as tonight's dose unless it names Wednesday), and its update when the
# patient then takes the dose.
DOSE_DAY_KINDS = frozenset(
    {"medication_reminder", "dose_followup", "missed_dose_caregiver", "caregiver_dose_update"}
)

# The dose's local day as [start, end) in UTC, by the dose's instant and the patient's zone: at
# 08:00 thousands of reminders share a few instants and zones, and a lookup and two comparisons
# cost less than converting every send's moment into its zone (issue 20). Cleared when full.
_DAYS: dict[tuple[datetime, str], tuple[datetime, datetime]] = {}
_DAYS_MAX = 8192


def _local_day(due_at: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The instants (UTC) where the dose's local date begins and where the next one begins."""
    key = (due_at, timezone)
    found = _DAYS.get(key)
    if found is None:
        zone = ZoneInfo(timezone)
        day = due_at.astimezone(zone).date()
        # A midnight a DST change skips resolves to the change itself: the day's first instant.
        start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
        found = (start, end)
        if len(_DAYS) >= _DAYS_MAX:
            _DAYS.clear()
        _DAYS[key] = found
    return found


def other_day(due_at: datetime, timezone: str, now: datetime) -> bool:
    """Whether ``now`` falls on another date than ``due_at`` where the patient lives."""
    start, end = _local_day(due_at, timezone)
    return not start <= now < end


def due_day(
    due_at: datetime, timezone: str, locale: str, now: datetime, *, sms: bool = False
) -> str | None:
    """The dose's day as its reminder names it at ``now`` ("Wed, March 4"), or None on the
    dose's own day (the reminder names no day). ``sms``: in GSM-7 letters ("sab", not "sáb")."""
    if not other_day(due_at, timezone, now):
        return None
    return fmt_day(due_at.astimezone(ZoneInfo(timezone)), locale, sms=sms)


__all__ = ["DOSE_DAY_KINDS", "due_day", "other_day"]
