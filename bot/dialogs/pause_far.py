"""A /pause whose end is far ahead, asked Yes or No before anything is paused.

"/pause until 2/3" typed on 2 March by a patient who writes month first paused for 11 months (3
February, next year) with no question asked: the reply named the date, but a patient who did not
notice it missed every dose until next year. A day typed the other way round, or a day just
passed (read as next year's), lands months ahead; a pause a patient means (a trip, a hospital
stay) is mostly shorter than a month. So an end more than 31 days ahead
(:data:`bot.pause_end.FAR_DAYS`) pauses nothing yet: how long that is and until which day are
named, Yes pauses, No says how to give a nearer day. The clinic's own pause (dashboard, API) is
the clinic's decision and not asked.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.conversation import Turn
from bot.dialogs.pause_words import caregiver_line, day_words
from bot.pause_end import pause_length
from bot.steps import Options, finish, goto, reprompt, step
from scheduler.holds import pause_reminders

__all__ = ["ask_far_pause"]

STEP = "pause_far_confirm"
_YES = "pfar:yes"
_NO = "pfar:no"


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
