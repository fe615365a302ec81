"""A /pause whose end is far ahead, asked Yes or No before anything is paused.

"/pause until 2/3" typed on 2 March by a patient who writes month first paused for 11 months (3
February, next year) with no question asked: the reply named the date, but a patient who did not
notice it missed every dose until next year. A day typed the other way round, or a day just
passed (read as next year's), lands months ahead; a pause a patient means (a trip, a hospital
stay) is mostly shorter than a month. So an end more than :data:`FAR_DAYS` days ahead pauses
nothing yet: how long that is and until which day are named, Yes pauses, No says how to give a
nearer day. The clinic's own pause (dashboard, API) is the clinic's decision and not asked.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.conversation import Turn
from bot.dialogs.pause_dates import caregiver_line, day_words
from bot.steps import Options, finish, goto, reprompt, step
from scheduler.holds import pause_reminders

__all__ = ["FAR_DAYS", "ask_far_pause", "is_far", "pause_length"]

# The longest month: "until" a day of next month, or "/pause 31 days", is never asked; a day
# misread the other way round ("2/3": 3 February or 2 March) or a day just passed (next year's)
# is mostly further, and a patient who meant that long says Yes once.
FAR_DAYS = 31

STEP = "pause_far_confirm"
_YES = "pfar:yes"
_NO = "pfar:no"
# Under this many days a length is said in days ("45 days"), from it in months.
_MONTHS_FROM_DAYS = 61
# From this many months a length is said in years ("3 years", "/pause until 3/4/2030").
_YEARS_FROM_MONTHS = 24
# Days past whole months that round up to the next month ("11 months" for 11 months 1 day).
_HALF_MONTH_DAYS = 15


def is_far(today: date, end_day: date) -> bool:
    """Whether a pause from the patient's ``today`` to ``end_day`` is long enough to ask first."""
    return (end_day - today).days > FAR_DAYS


def pause_length(today: date, end_day: date) -> tuple[str, int]:
    """How long from ``today`` to ``end_day`` is, as a patient says it, as the unit's text key
    and the count: days under two months ("45 days"), else months to the nearest ("11 months"
    for 11 months and a day), from two years years ("3 years")."""
    days = (end_day - today).days
    if days < _MONTHS_FROM_DAYS:
        return "pause_far_days", days
    months = (end_day.year - today.year) * 12 + end_day.month - today.month
    if end_day.day < today.day:
        months -= 1
    if (end_day - _months_on(today, months)).days >= _HALF_MONTH_DAYS:
        months += 1
    if months >= _YEARS_FROM_MONTHS:
        return "pause_far_years", round(months / 12)
    return "pause_far_months", months


def _months_on(day: date, months: int) -> date:
    """``day`` ``months`` calendar months on, its day of the month kept where the month has it
    (31 January and one month: 28 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


async def ask_far_pause(
    turn: Turn, end: datetime, *, today: date, end_day: date, note: str, example: str
) -> None:
    """Ask Yes or No before a pause until ``end`` (the start of, or a time on, ``end_day``).
    ``note``: the line that says when reminders come back, said after Yes; ``example``: a
    nearer day written the patient's way round, for the "/pause until" a No is shown."""
    unit, count = pause_length(today, end_day)
    turn.conv.data["pause_far"] = {
        "end": end.isoformat(),
        "note": note,
        "example": example,
        "length": turn.t(unit, n=count),
        "date": day_words(turn, end_day),
    }
    await goto(turn, STEP)


async def _prompt(turn: Turn) -> tuple[str, Options]:
    far = turn.conv.data.get("pause_far") or {}
    asked = turn.t("ask_pause_far", length=far.get("length", ""), date=far.get("date", ""))
    # Yes and No: what a patient types to a question over SMS and WhatsApp too.
    return asked, [(turn.t("btn_yes"), _YES), (turn.t("btn_no"), _NO)]


@step(STEP, _prompt)
async def pause_far_confirm(turn: Turn) -> None:
    """Yes pauses every reminder until the end asked about; No pauses nothing and says how to
    give a nearer day."""
    far = turn.conv.data.get("pause_far") or {}
    if turn.choice not in (_YES, _NO) or "end" not in far:
        await reprompt(turn, "bad_choice")
        return
    finish(turn)
    if turn.choice == _NO:
        turn.say(turn.t("pause_far_declined", example=far.get("example", "")))
        return
    assert turn.conv.patient_id is not None
    end = datetime.fromisoformat(far["end"])
    await pause_reminders(turn.conn, turn.conv.patient_id, turn.now, until=end)
    said = f"{turn.t('paused_all_noted')}\n{far['note']}"
    turn.say(said + await caregiver_line(turn))
