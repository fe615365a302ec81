"""``/pause until 4/3``: a day that could be either way round, asked back in words.

Both readings of "4/3" were days ahead (4 March, or 3 April), and the pause began open (until
/resume), said to have "no end date" though the patient typed one: reminders stayed off until a
/resume they did not know they needed (found as a patient in Auckland). The pause starts at once,
open; the two days are offered, weekday first, as /add offers its dates
(:mod:`bot.dialogs.medicine_dates`), the region's reading first; the one picked ends the pause at
that day's start (:mod:`bot.pause_end`). A guess about a region never sets the day.
"""

from __future__ import annotations

from datetime import date

from bot import texts
from bot.conversation import Turn
from bot.dialogs.medicine_dates import date_pick_label
from bot.pause_end import end_on_day, local_today, pause_zone
from bot.steps import Options, finish, goto, reprompt, step
from core.template_filters import gsm7_letters
from platforms.base import Channel
from scheduler.holds import pause_reminders

__all__ = ["ask_pause_day", "day_words"]

PICK_STEP = "pause_day_pick"
_PREFIX = "pday:"


def day_words(turn: Turn, day: date) -> str:
    """``day`` in words, over SMS in GSM-7's letters as the text around it: "sábado" made a
    Spanish pause's whole reply UCS-2 (two parts where one did)."""
    words = texts.fmt_date(day, turn.locale, "full")
    return gsm7_letters(words) if turn.conv.channel is Channel.SMS else words


async def ask_pause_day(turn: Turn, said: str, typed: str, days: list[date]) -> None:
    """After ``said`` (the pause, begun open), ask which of ``days`` the typed ``typed`` meant."""
    turn.conv.data["pause_pick"] = {"typed": typed, "dates": [d.isoformat() for d in days]}
    await goto(turn, PICK_STEP, prefix=said)


async def _pick_prompt(turn: Turn) -> tuple[str, Options]:
    pick = turn.conv.data.get("pause_pick") or {}
    sms = turn.conv.channel is Channel.SMS
    return turn.t("ask_pause_day_pick", typed=pick.get("typed", "")), [
        (date_pick_label(date.fromisoformat(d), turn.locale, sms=sms), f"{_PREFIX}{d}")
        for d in pick.get("dates", [])
    ]


@step(PICK_STEP, _pick_prompt)
async def pause_day_pick(turn: Turn) -> None:
    """The day picked ends the pause at its start; resumed meanwhile (the app, the clinic), or
    the day no longer ahead (picked after its midnight), the pause is left as it is, and said."""
    pick = turn.conv.data.get("pause_pick") or {}
    chosen = turn.choice.removeprefix(_PREFIX) if turn.choice else None
    if chosen is None or chosen not in pick.get("dates", []):
        await reprompt(turn, "bad_choice")
        return
    finish(turn)
    patient = turn.patient
    if patient is None or not patient["reminders_paused"]:
        turn.say(turn.t("pause_day_not_paused"))
        return
    zone = pause_zone(patient["timezone"])
    day = date.fromisoformat(chosen)
    if day <= local_today(turn.now, zone):
        turn.say(turn.t("pause_no_end"))
        return
    assert turn.conv.patient_id is not None
    await pause_reminders(turn.conn, turn.conv.patient_id, turn.now, until=end_on_day(day, zone))
    turn.say(turn.t("pause_ends_on", date=day_words(turn, day)))
