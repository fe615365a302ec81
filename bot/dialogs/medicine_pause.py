"""Pausing or resuming one medicine from ``/meds``, and the bare word "pause" typed there, which
could mean one medicine or every reminder: asked, never guessed.

Under the /meds list, whose options read "Pause Metformin", a bare "pause" ("pausa") did three
things by the state of the list: it paused Metformin when it was the one medicine with a Pause
option, every reminder when no option started with Pause (a paused medicine's reads "Resume
Metformin"), and the other medicine when one of two was already paused. A patient who types the
word may mean either; the wrong one stops reminders they rely on, or leaves on those they meant
to stop. So the word asks: each medicine it could pause, and all reminders, unless only one of
them is possible. "resume" likewise: under "Resume Metformin" it brought Metformin back and left
a patient's paused reminders off, while they read it as their reminders back on.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from bot import texts
from bot.command_phrases import bare_word
from bot.conversation import Turn
from bot.dialogs.account import pause, resume
from bot.dialogs.replanning import replan_schedules
from bot.steps import Options, finish, goto, reprompt, step
from core.logs import mark_sensitive
from core.sql import query

# How much of a medicine's name a button shows.
SHORT_NAME = 24


def said_word(turn: Turn) -> str | None:
    """ "pause" or "resume" when the patient typed that word alone (not a button's label)."""
    if turn.event.button_data is not None:
        return None
    return bare_word(turn.text)


def typed_a_word(turn: Turn) -> bool:
    """Whether the turn is a bare "pause" or "resume" (a step's ``words``: bot.steps.Step)."""
    return said_word(turn) is not None


def short_names(rows: list[Any]) -> list[str]:
    """Each listed medicine's name as its buttons say it: cut short, and two of one name told
    apart by their numbers in the list ("Aspirin (2)")."""
    shorts = [row["name"][:SHORT_NAME] for row in rows]
    return [f"{s} ({n})" if shorts.count(s) > 1 else s for n, s in enumerate(shorts, 1)]


async def set_medicine_status(turn: Turn, row: Any, action: str) -> None:
    """Pause (``action`` "pause") or resume one medicine of the patient's, and say so."""
    status = "paused" if action == "pause" else "active"
    patient_id = turn.conv.patient_id
    await turn.conn.execute(query("bot", "set_medication_status"), row["id"], patient_id, status)
    ids = await turn.conn.fetch(query("bot", "set_schedules_status"), row["id"], patient_id, status)
    if action == "pause":
        await turn.conn.execute(query("medicines", "cancel_open_doses"), row["id"])
    await replan_schedules(turn, [r["id"] for r in ids])
    finish(turn)
    key = "med_paused_done" if action == "pause" else "med_resumed_done"
    turn.say(turn.t(key, name=row["name"]))


async def by_name(turn: Turn, word: str) -> bool:
    """ "pause metformin" ("reanudar el ibuprofeno") said outside /meds, for ``word`` "pause" or
    "resume": done when what follows the word names one of the patient's medicines, and
    True; False (nothing done) when it names none or several. It told the patient to find the
    medicine in /meds, though the name said which (found by hand in medremind dev's console)."""
    named = texts.fold_word(turn.text).partition(" ")[2]
    named = named.removeprefix("el ").removeprefix("la ").removeprefix("my ").strip()
    rows = await turn.conn.fetch(query("bot", "list_medications"), turn.conv.patient_id)
    found = [row for row in rows if texts.fold_word(row["name"]) == named]
    if len(found) != 1:
        return False
    mark_sensitive(found[0]["name"])
    await set_medicine_status(turn, found[0], word)
    return True


async def _choices(turn: Turn, word: str, only: UUID | None) -> Options:
    """What ``word`` could be about: each medicine it would change (``only`` that one, when
    the patient is deciding about it), then all reminders, where each would change anything."""
    rows = await turn.conn.fetch(query("bot", "list_medications"), turn.conv.patient_id)
    mark_sensitive(*(row["name"] for row in rows))
    wanted = "active" if word == "pause" else "paused"
    options: Options = [
        (turn.t("btn_med_only", name=short), f"med:{word}:{row['id']}")
        for row, short in zip(rows, short_names(rows), strict=True)
        if row["status"] == wanted and only in (None, row["id"])
    ]
    paused = turn.patient is not None and bool(turn.patient["reminders_paused"])
    if paused is (word == "resume"):
        options.append((turn.t("btn_all_reminders"), f"all:{word}"))
    return options


async def ask_which(turn: Turn, word: str, *, only: UUID | None = None) -> None:
    """The bare ``word`` typed under /meds (or while deciding about medicine ``only``): asked
    which, when it could mean more than one thing; done, when it can mean only one."""
    choices = await _choices(turn, word, only)
    if len(choices) > 1:
        turn.conv.state["data"] = {"word": word, "only": None if only is None else str(only)}
        await goto(turn, "meds_pause_which")
        return
    await _do(turn, choices[0][1] if choices else f"all:{word}")


async def _do(turn: Turn, value: str) -> None:
    """Carry out an answer of :func:`ask_which`: ``all:pause``, ``med:resume:<id>``..."""
    kind, _, rest = value.partition(":")
    if kind == "all":
        await (pause if rest == "pause" else resume)(turn, "")
        return
    action, _, raw_id = rest.partition(":")
    row = await turn.conn.fetchrow(
        query("bot", "get_medication"), UUID(raw_id), turn.conv.patient_id
    )
    if row is None:
        finish(turn)
        turn.say(turn.t("med_gone"))
        return
    mark_sensitive(row["name"])
    await set_medicine_status(turn, row, action)


async def which_prompt(turn: Turn) -> tuple[str, Options]:
    word = turn.conv.data.get("word", "pause")
    only = turn.conv.data.get("only")
    choices = await _choices(turn, word, UUID(only) if only else None)
    return turn.t(f"{word}_which"), choices


@step("meds_pause_which", which_prompt, words=typed_a_word)
async def meds_pause_which(turn: Turn) -> None:
    """The answer to "Pause one medicine, or all your reminders?"."""
    value = turn.choice or ""
    if said_word(turn) is not None or not value.startswith(("all:", "med:")):
        await reprompt(turn, "bad_choice")  # "pause" again: the question stands
        return
    await _do(turn, value)
