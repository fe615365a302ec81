"""What a pause's replies say of a day and of a caregiver, shared by the ways a pause is chosen
(:mod:`bot.dialogs.account`, :mod:`bot.dialogs.pause_dates`, :mod:`bot.dialogs.pause_far`,
:mod:`bot.dialogs.pause_count`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot import texts
from bot.conversation import Turn
from core.logs import mark_sensitive
from core.sql import query
from core.template_filters import gsm7_letters
from platforms.base import Channel

__all__ = ["caregiver_line", "day_words", "ends_at", "example_day"]


def day_words(turn: Turn, day: date) -> str:
    """``day`` in words, over SMS in GSM-7's letters as the text around it: "sábado" made a
    Spanish pause's whole reply UCS-2 (two parts where one did)."""
    words = texts.fmt_date(day, turn.locale, "full")
    return gsm7_letters(words) if turn.conv.channel is Channel.SMS else words


def ends_at(turn: Turn, local_end: datetime) -> str:
    """The line that says a pause ends by itself on a day at a time of it ("3 days", "until
    tomorrow afternoon"), as the patient's clock reads ``local_end``."""
    return turn.t(
        "pause_ends_at",
        date=day_words(turn, local_end.date()),
        time=texts.fmt_time(local_end.time(), turn.locale),
    )


async def caregiver_line(turn: Turn) -> str:
    """The line a pause's reply ends with when the patient has a caregiver (or ""): their
    silence would read as "all doses taken", and the patient may want to tell them."""
    assert turn.conv.patient_id is not None
    caregiver = await turn.conn.fetchrow(query("bot", "get_caregiver"), turn.conv.patient_id)
    if caregiver is None or caregiver["opted_out_at"] is not None:
        return ""
    mark_sensitive(caregiver["name"])
    return "\n" + turn.t("paused_caregiver", name=caregiver["name"])


# How far ahead the example of "/pause until ..." is, moved past the 12th (one way round).
_EXAMPLE_DAYS = 7


def example_day(today: date, *, month_first: bool) -> str:
    """A day ahead as the example of "/pause until ...", written the patient's way round."""
    example = today + timedelta(days=_EXAMPLE_DAYS)
    while example.day <= 12:  # "6/12" could be either way round: asked back if typed as shown
        example += timedelta(days=1)
    return f"{example:%-m/%-d}" if month_first else f"{example:%-d/%-m}"
