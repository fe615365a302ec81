"""``/pause a few days``, "pausa unos días", "pause for a while": how many is asked before
anything is paused.

"pausa unos días" paused every reminder with "This pause has no end date: they stay off until you
send /resume" (or, without the slash, was not understood): the patient meant an end, a few days
on, and one who forgot /resume missed every dose after it. Nothing is paused until a number is
picked or typed ("3", "3 días", "a week and a half"); the pause then ends that long on, at the
same time of day (:func:`bot.pause_end.end_after_days`), asked Yes or No first when that is more
than 31 days on (:mod:`bot.dialogs.pause_far`), as every length typed with /pause is.
"""

from __future__ import annotations

from bot import texts
from bot.command_phrases import pause_days
from bot.conversation import Turn
from bot.date_order import month_first_region
from bot.dialogs.pause_far import ask_far_pause
from bot.dialogs.pause_words import caregiver_line, ends_at, example_day
from bot.parsing import parse_int
from bot.patient_region import patient_region
from bot.pause_end import end_after_days, is_far, local_today, pause_zone
from bot.steps import Options, finish, goto, reprompt, step
from scheduler.holds import pause_reminders

__all__ = ["ask_pause_count"]

STEP = "pause_count"
_PREFIX = "pcount:"
# The lengths offered, in the unit the patient said: "a few" is two to a handful; a week's
# lengths up to four (a month's pause, the longest not asked again: bot.pause_end.FAR_DAYS).
_OFFERED = {"days": (2, 3, 5, 7), "weeks": (1, 2, 3, 4)}
_UNIT_DAYS = {"days": 1, "weeks": 7}


async def ask_pause_count(turn: Turn, unit: str) -> None:
    """Ask how many ``unit`` ("days" or "weeks") a pause lasts; nothing is paused yet."""
    turn.conv.data["pause_count"] = {"unit": unit}
    await goto(turn, STEP)


async def _prompt(turn: Turn) -> tuple[str, Options]:
    unit = _unit(turn)
    return turn.t(f"ask_pause_{unit}"), [
        (turn.t(texts.counted(f"pause_count_{unit}", n), n=n), f"{_PREFIX}{n}")
        for n in _OFFERED[unit]
    ]


def _unit(turn: Turn) -> str:
    unit = (turn.conv.data.get("pause_count") or {}).get("unit")
    return unit if unit in _UNIT_DAYS else "days"


def _typed_days(turn: Turn) -> float | None:
    """The days a typed answer names: a number of the unit asked ("3"), or a length ("3 días",
    "a week and a half"); None for anything else, or past a year."""
    count = parse_int(turn.text, low=1, high=366)
    if count is not None:
        return pause_days(f"{count * _UNIT_DAYS[_unit(turn)]} days")
    return pause_days(turn.text)


@step(STEP, _prompt, typed=lambda t: _typed_days(t) is not None, typed_labels=True)
async def pause_count(turn: Turn) -> None:
    """The length picked or typed begins the pause, ending that long on."""
    if turn.choice and turn.choice.startswith(_PREFIX):
        days: float | None = int(turn.choice.removeprefix(_PREFIX)) * _UNIT_DAYS[_unit(turn)]
    else:
        days = _typed_days(turn)
    if days is None:
        await reprompt(turn, "bad_choice")
        return
    finish(turn)
    assert turn.patient is not None and turn.conv.patient_id is not None
    zone = pause_zone(turn.patient["timezone"])
    end, local_end = end_after_days(turn.now, zone, days)
    note = ends_at(turn, local_end)
    today = local_today(turn.now, zone)
    if is_far(today, local_end.date()):
        example = example_day(today, month_first=month_first_region(await patient_region(turn)))
        await ask_far_pause(
            turn, end, today=today, end_day=local_end.date(), note=note, example=example
        )
        return
    await pause_reminders(turn.conn, turn.conv.patient_id, turn.now, until=end)
    turn.say(f"{turn.t('paused_all_noted')}\n{note}{await caregiver_line(turn)}")
