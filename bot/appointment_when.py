"""An appointment's day and time as the bot says them to its patient.

In the patient's zone, as ever, unless the clinic's zone shows another wall clock at the
appointment: then the clinic's day and time (where the visit is), labelled with its city, and
the patient's own beside it, "9:00 AM Madrid time (3:00 AM your time)", as the appointment
messages say it (:mod:`scheduler.appointment_times`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.conversation import Turn
from bot.locale_format import fmt_time
from platforms.base import Channel
from scheduler.appointment_times import clinic_time_values


def appointment_when(
    turn: Turn, starts_at: datetime, clinic_zone: str | None
) -> tuple[datetime, str]:
    """The instant to name the day by (in the zone whose day it is) and the time's words."""
    patient_zone = turn.patient["timezone"] if turn.patient is not None else "UTC"
    both = clinic_time_values(
        starts_at,
        patient_zone,
        clinic_zone,
        turn.locale,
        sms=turn.conv.channel == Channel.SMS,
    )
    if both is None:
        local = starts_at.astimezone(ZoneInfo(patient_zone))
        return local, fmt_time(local, turn.locale)
    clinic = starts_at.astimezone(ZoneInfo(both["timezone"]))
    yours = both["your_time"]
    if "your_day" in both:
        yours = turn.t("appt_your_day", time=yours, day=both["your_day"])
    words = turn.t(
        "appt_time_zones",
        time=fmt_time(clinic, turn.locale),
        zone=both["clinic_zone"],
        your_time=yours,
    )
    return clinic, words


__all__ = ["appointment_when"]
