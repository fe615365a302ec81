"""When a pause asked for in a form ends: ``pause_days`` (a length) or ``pause_until`` (a day in
the patient's zone, null: until resumed), read as the bot reads "/pause 3 days" and "/pause until
3/15" (:mod:`bot.pause_end`, the same rule and bounds). One reading for the patient app's settings
(:mod:`medremind.web.patient_app.settings`) and the dashboard's pause
(:mod:`medremind.web.clinic_pause`), so that a length picked in either ends when the same words in
a chat would.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.command_phrases import MAX_SPAN_DAYS
from bot.pause_end import end_after_days, end_on_day, local_today, pause_zone
from medremind.web.errors import ValidationFailed

__all__ = ["PAUSE_END_FIELDS", "pause_end"]

# The body fields that say when a pause ends.
PAUSE_END_FIELDS = ("pause_days", "pause_until")


def pause_end(body: dict[str, Any], zone_name: str, now: datetime) -> tuple[bool, datetime | None]:
    """Whether ``body`` picks when its pause ends, and that end (None: ``pause_until`` null,
    until resumed). Picking none, a pause already on keeps its end. 422 naming the field for both
    picked, one without ``paused`` true, a length outside 1 to a year of days (the bot's bounds),
    a day not after the patient's today or not written YYYY-MM-DD."""
    picked = [key for key in PAUSE_END_FIELDS if key in body]
    if not picked:
        return False, None
    if len(picked) > 1:
        raise ValidationFailed("pause_until", "give pause_days or pause_until, not both")
    if body.get("paused") is not True:
        raise ValidationFailed(picked[0], "is when a pause ends: send it with paused true")
    zone = pause_zone(zone_name)
    if picked == ["pause_days"]:
        days = body["pause_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_SPAN_DAYS:
            raise ValidationFailed(
                "pause_days", f"must be a whole number of days from 1 to {MAX_SPAN_DAYS}"
            )
        return True, end_after_days(now, zone, days)[0]
    value = body["pause_until"]
    if value is None:
        return True, None
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    today = local_today(now, zone)
    if day is None or day <= today:
        raise ValidationFailed(
            "pause_until",
            f"must be a day after today ({today.isoformat()} in {zone.key}) written as"
            " YYYY-MM-DD, the day reminders come back; or null for a pause until resumed",
        )
    return True, end_on_day(day, zone)
