"""``/pause until 4/3``: a day that could be either way round, asked back in words.

Both readings of "4/3" were days ahead (4 March, or 3 April), and the pause began open (until
/resume), said to have "no end date" though the patient typed one: reminders stayed off until a
/resume they did not know they needed (found as a patient in Auckland). The pause starts at once,
open; the two days are offered, weekday first, as /add offers its dates
(:mod:`bot.dialogs.medicine_dates`), the region's reading first; the one picked ends the pause at
that day's start (:mod:`bot.pause_end`). A guess about a region never sets the day.

A day whose usual reading is today ("4/3" on 4 March in Spain) cannot end a pause, and was refused
as "today" without a word of its other reading (3 April), the day a patient who writes month
first meant: that day is offered, Yes or No. Nothing is paused until it is picked (the patient may
have mistyped today: an open pause would keep their reminders off until a /resume).
"""

from __future__ import annotations

from datetime import date

from bot import texts
from bot.conversation import Turn
from bot.dialogs.medicine_dates import date_pick_label
from bot.pause_end import end_on_day, is_far, local_today, pause_length, pause_zone
from bot.steps import Options, finish, goto, reprompt, step
from core.logs import mark_sensitive
from core.sql import query
from core.template_filters import gsm7_letters
from platforms.base import Channel
from scheduler.holds import pause_reminders

__all__ = ["ask_other_day", "ask_pause_day", "caregiver_line", "day_words"]

PICK_STEP = "pause_day_pick"
_PREFIX = "pday:"
_NO = f"{_PREFIX}no"


def day_words(turn: Turn, day: date) -> str:
    """``day`` in words, over SMS in GSM-7's letters as the text around it: "sábado" made a
    Spanish pause's whole reply UCS-2 (two parts where one did)."""
    words = texts.fmt_date(day, turn.locale, "full")
    return gsm7_letters(words) if turn.conv.channel is Channel.SMS else words


async def ask_pause_day(turn: Turn, said: str, typed: str, days: list[date]) -> None:
    """After ``said`` (the pause, begun open), ask which of ``days`` the typed ``typed`` meant."""
    turn.conv.data["pause_pick"] = {"typed": typed, "dates": [d.isoformat() for d in days]}
    await goto(turn, PICK_STEP, prefix=said)


async def ask_other_day(turn: Turn, typed: str, readings: list[date], *, example: str) -> None:
    """Offer the second of ``readings`` (the first is today, which cannot end a pause) for
    ``typed``; nothing is paused until it is picked. ``example``: a day ahead written the
    patient's way round, for the "/pause until" their No is shown."""
    today, other = readings
    turn.conv.data["pause_pick"] = {
        "typed": typed,
        "dates": [other.isoformat()],
        "today": today.isoformat(),
        "example": example,
    }
    await goto(turn, PICK_STEP)


async def caregiver_line(turn: Turn) -> str:
    """The line a pause's reply ends with when the patient has a caregiver (or ""): their
    silence would read as "all doses taken", and the patient may want to tell them."""
    assert turn.conv.patient_id is not None
    caregiver = await turn.conn.fetchrow(query("bot", "get_caregiver"), turn.conv.patient_id)
    if caregiver is None or caregiver["opted_out_at"] is not None:
        return ""
    mark_sensitive(caregiver["name"])
    return "\n" + turn.t("paused_caregiver", name=caregiver["name"])


async def _pick_prompt(turn: Turn) -> tuple[str, Options]:
    pick = turn.conv.data.get("pause_pick") or {}
    if "today" not in pick:
        sms = turn.conv.channel is Channel.SMS
        return turn.t("ask_pause_day_pick", typed=pick.get("typed", "")), [
            (date_pick_label(date.fromisoformat(d), turn.locale, sms=sms), f"{_PREFIX}{d}")
            for d in pick.get("dates", [])
        ]
    today, other = date.fromisoformat(pick["today"]), date.fromisoformat(pick["dates"][0])
    asked = turn.t(
        "ask_pause_other_day",
        typed=pick["typed"],
        today=day_words(turn, today),
        date=day_words(turn, other),
    )
    if is_far(today, other):
        # "2/4" on 2 April: 4 February is next year's, and how long that is was not said.
        unit, count = pause_length(today, other)
        asked += " " + turn.t("pause_far_length", length=turn.t(unit, n=count))
    # Yes and No, the day named in the question: "yes" is what a patient types to "Did you
    # mean ...?", and a day's label typed back was the only way to pick it.
    return asked, [(turn.t("btn_yes"), f"{_PREFIX}{pick['dates'][0]}"), (turn.t("btn_no"), _NO)]


@step(PICK_STEP, _pick_prompt)
async def pause_day_pick(turn: Turn) -> None:
    """The day picked ends the pause at its start; resumed meanwhile (the app, the clinic), or
    the day no longer ahead (picked after its midnight), the pause is left as it is, and said."""
    pick = turn.conv.data.get("pause_pick") or {}
    if "today" in pick and turn.choice == _NO:
        finish(turn)
        ahead = turn.t("pause_day_ahead", example=pick.get("example", ""))
        turn.say(f"{turn.t('pause_other_day_declined')} {ahead}")
        return
    chosen = turn.choice.removeprefix(_PREFIX) if turn.choice else None
    if chosen is None or chosen not in pick.get("dates", []):
        await reprompt(turn, "bad_choice")
        return
    finish(turn)
    if "today" in pick:
        await _begin_pause(turn, date.fromisoformat(chosen))
        return
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


async def _begin_pause(turn: Turn, day: date) -> None:
    """The other reading picked: the pause begins now and ends at ``day``'s start, or (the day
    no longer ahead: picked after its midnight) nothing is paused, and said."""
    assert turn.patient is not None and turn.conv.patient_id is not None
    zone = pause_zone(turn.patient["timezone"])
    if day <= local_today(turn.now, zone):
        turn.say(turn.t("pause_day_today", date=day_words(turn, day)))
        return
    await pause_reminders(turn.conn, turn.conv.patient_id, turn.now, until=end_on_day(day, zone))
    ends = turn.t("pause_ends_on", date=day_words(turn, day))
    turn.say(f"{turn.t('paused_all_noted')}\n{ends}{await caregiver_line(turn)}")
