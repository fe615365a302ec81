"""What a command typed in the middle of a dialog left unsaved, said to the patient.

A slash command leaves whatever dialog was under way (``bot.engine``). A patient who typed /meds
at "Save it?" after seven answers about Amoxicillin was shown "You have no medicines yet", and
their "1" (Save) then found nothing waiting: the medicine was dropped without a word, and no
reminder was ever planned for it (found by hand in ``medremind dev``'s console). The draft a
dialog collected is looked at before the command runs; if the command dropped it, its first
reply begins by saying what was not saved and how to start again.
"""

from __future__ import annotations

import dataclasses

from bot.conversation import Turn

# The dialogs whose draft is worth naming: adding or editing a medicine, adding a caregiver.
_MEDICINE_STEPS = "add_"
_CAREGIVER_STEPS = "set_caregiver_"


def unsaved_draft(turn: Turn) -> tuple[str, dict[str, str]] | None:
    """The text key and values that name what the current dialog would lose, or None."""
    step = turn.conv.step
    data = turn.conv.state.get("data")
    if not isinstance(data, dict):
        return None
    if step.startswith(_MEDICINE_STEPS) and data.get("name"):
        key = "unsaved_medicine_edit" if data.get("mode") == "edit" else "unsaved_medicine"
        return key, {"name": str(data["name"])}
    if step.startswith(_CAREGIVER_STEPS) and data.get("cg_name"):
        return "unsaved_caregiver", {"name": str(data["cg_name"])}
    return None


def say_unsaved(turn: Turn, draft: tuple[str, dict[str, str]], first_reply: int) -> None:
    """After a command: if it dropped the dialog's draft, say so at the head of its first reply
    (one message, not two: on SMS each is a text of its own)."""
    if unsaved_draft(turn) == draft:
        return  # the dialog is still where it was (/help leaves it)
    key, values = draft
    note = turn.t(key, **values)
    if len(turn.replies) > first_reply:
        reply = turn.replies[first_reply]
        turn.replies[first_reply] = dataclasses.replace(reply, text=f"{note}\n\n{reply.text}")
    else:
        turn.say(note)
