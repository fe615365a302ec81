"""``/pause until 4/3``: a day that could be either way round, asked back in words.

Both readings of "4/3" were days ahead (4 March, or 3 April), and the pause began open (until
/resume), said to have "no end date" though the patient typed one: reminders stayed off until a
/resume they did not know they needed (found as a patient in Auckland). Then it began open while
it asked which day, and a patient who never answered was left the same. Nothing is paused until a
day is picked: the two days are offered, weekday first, as /add offers its dates
(:mod:`bot.dialogs.medicine_dates`), the region's reading first; the one picked ends the pause at
that day's start (:mod:`bot.pause_end`). A guess about a region never sets the day. A day picked
more than 31 days ahead ("1/5/2030", or "2/3" read as next February) is asked Yes or No first,
how long named, as every far pause is (:mod:`bot.dialogs.pause_far`).

A day whose usual reading is today ("4/3" on 4 March in Spain) cannot end a pause, and was refused
as "today" without a word of its other reading (3 April), the day a patient who writes month
first meant: that day is offered, Yes or No, how long named when it is far. Nothing is paused
until it is picked (the patient may have mistyped today).
"""

from __future__ import annotations

from datetime import date, time

from bot import texts
from bot.conversation import Turn
from bot.dialogs.medicine_dates import date_pick_label
from bot.dialogs.pause_far import ask_far_pause
from bot.dialogs.pause_words import caregiver_line, day_words, ends_at
from bot.pause_end import end_at, end_on_day, is_far, local_today, pause_length, pause_zone
from bot.steps import Options, finish, goto, reprompt, step
from platforms.base import Channel
from scheduler.holds import pause_reminders

__all__ = ["ask_other_day", "ask_pause_day"]

PICK_STEP = "pause_day_pick"
_PREFIX = "pday:"
_NO = f"{_PREFIX}no"


async def ask_pause_day(
    turn: Turn, typed: str, days: list[date], *, example: str, at: time | None = None
) -> None:
    """Ask which of ``days`` (both ahead) the typed ``typed`` meant; nothing is paused until one
    is picked. ``example``: a nearer day written the patient's way round, for the "/pause until"
    a No to a far pick is shown; ``at``: the time of the day said with it ("4/3 at noon"), which
    the pause ends at (else the day's start)."""
    turn.conv.data["pause_pick"] = {
        "typed": typed,
        "dates": [d.isoformat() for d in days],
        "example": example,
    } | _at(at)
    await goto(turn, PICK_STEP)


async def ask_other_day(
    turn: Turn, typed: str, readings: list[date], *, example: str, at: time | None = None
) -> None:
    """Offer the second of ``readings`` (the first is today, which cannot end a pause) for
    ``typed``; nothing is paused until it is picked. ``example``: a day ahead written the
    patient's way round, for the "/pause until" their No is shown; ``at`` as for
    :func:`ask_pause_day`."""
    today, other = readings
    turn.conv.data["pause_pick"] = {
        "typed": typed,
        "dates": [other.isoformat()],
        "today": today.isoformat(),
        "example": example,
    } | _at(at)
    await goto(turn, PICK_STEP)


def _at(at: time | None) -> dict[str, str]:
    """The time a picked day's pause ends at, kept with the pick (nothing: the day's start)."""
    return {} if at is None else {"at": at.isoformat()}


async def _pick_prompt(turn: Turn) -> tuple[str, Options]:
    pick = turn.conv.data.get("pause_pick") or {}
    if "today" not in pick:
        sms = turn.conv.channel is Channel.SMS
        asked = turn.t("ask_pause_day_pick", typed=pick.get("typed", ""))
        if _at_dawn(turn, pick):
            local = turn.now.astimezone(pause_zone(_zone(turn)))
            time_now = texts.fmt_time(local.time(), turn.locale)
            asked = turn.t("ask_pause_dawn_pick", now=time_now)
        return asked, [
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


def _at_dawn(turn: Turn, pick: dict) -> bool:
    """Whether the pick is of today and tomorrow ("tomorrow morning" said at 2:15 AM)."""
    dates = pick.get("dates", [])
    if "at" not in pick or len(dates) != 2:
        return False
    today = local_today(turn.now, pause_zone(_zone(turn)))
    return date.fromisoformat(dates[0]) == today


def _zone(turn: Turn) -> str | None:
    return turn.patient["timezone"] if turn.patient is not None else None


@step(PICK_STEP, _pick_prompt)
async def pause_day_pick(turn: Turn) -> None:
    """The day picked begins the pause, ending at its start (:func:`_begin_pause`); No to the
    other reading of a day read as today pauses nothing."""
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
    # The other reading's question named how long a far day is: its Yes is the answer.
    example = None if "today" in pick else pick.get("example", "")
    at = time.fromisoformat(pick["at"]) if "at" in pick else None
    await _begin_pause(turn, date.fromisoformat(chosen), at, far_example=example)


async def _begin_pause(turn: Turn, day: date, at: time | None, *, far_example: str | None) -> None:
    """The day picked: the pause begins now and ends at ``day``'s start (at ``at`` when a time
    was said with it); a day more than 31
    days ahead is asked Yes or No first, unless the question that offered it said how long
    (``far_example`` None; else the nearer day a No is shown); the day no longer ahead (picked
    after its midnight), nothing is paused, and said."""
    assert turn.patient is not None and turn.conv.patient_id is not None
    zone = pause_zone(turn.patient["timezone"])
    today = local_today(turn.now, zone)
    if at is None:
        end = end_on_day(day, zone)
        ends = turn.t("pause_ends_on", date=day_words(turn, day))
    else:
        # Today's reading of "tomorrow morning" said before dawn ends today, at that time.
        end = end_at(day, at, zone)
        ends = ends_at(turn, end.astimezone(zone))
    if end <= turn.now or (at is None and day <= today):
        turn.say(turn.t("pause_day_today", date=day_words(turn, day)))
        return
    if far_example is not None and is_far(today, day):
        await ask_far_pause(turn, end, today=today, end_day=day, note=ends, example=far_example)
        return
    await pause_reminders(turn.conn, turn.conv.patient_id, turn.now, until=end)
    turn.say(f"{turn.t('paused_all_noted')}\n{ends}{await caregiver_line(turn)}")
