"""A pause picked in the patient app more than 31 days ahead is confirmed first, as the bot asks
(:mod:`bot.dialogs.pause_far`): a date picked a year out by mistake (the picker's year, a month
tapped twice) paused every reminder until then with one tap of Save. Without ``pause_long`` true
such a pause is a 409 ``pause_long`` whose reason is the bot's question in the patient's language
("That pauses all reminders for 4 months, until ... Pause that long?"); the app asks it and sends
the same settings again with ``pause_long`` true. The clinic's pause is the clinic's decision and
not asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import texts
from bot.pause_end import is_far, local_today, pause_length, pause_zone
from medremind.web.errors import ApiError

__all__ = ["CONFIRM_FIELD", "confirm_far_pause"]

# The body field that says the patient has been told how long and still wants it.
CONFIRM_FIELD = "pause_long"


def confirm_far_pause(
    body: dict[str, Any], until: datetime | None, *, zone_name: str, locale: str, now: datetime
) -> None:
    """Refuse (409 ``pause_long``) a pause until ``until`` more than 31 days past the patient's
    today unless ``body`` says ``pause_long`` true (the settings check it is true or false)."""
    if until is None or body.get(CONFIRM_FIELD) is True:
        return
    zone = pause_zone(zone_name)
    today, end_day = local_today(now, zone), until.astimezone(zone).date()
    if not is_far(today, end_day):
        return
    unit, count = pause_length(today, end_day)
    asked = texts.text(
        locale,
        "ask_pause_far",
        length=texts.text(locale, unit, n=count),
        date=texts.fmt_date(end_day, locale, "full"),
    )
    raise ApiError(409, asked, field=CONFIRM_FIELD, code=CONFIRM_FIELD)
