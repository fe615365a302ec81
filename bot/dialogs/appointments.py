"""``/appointments``: upcoming visits, each with Confirm / Reschedule request / Cancel buttons.

On Telegram the buttons carry ``a:<id>:c|r|x``; on SMS the patient replies C, R or X (never the
word CANCEL, which carriers treat as an opt-out), handled in :mod:`bot.dialogs.answers`.
"""

from __future__ import annotations

from uuid import UUID

from bot import texts
from bot.appointment_when import appointment_when
from bot.conversation import NUMBERED_CHANNELS, Reply, Turn
from bot.questions import ask_question
from bot.steps import command, finish
from core.answer_buttons import appointment_answer_options
from core.logs import mark_sensitive
from core.sql import query

# The letters the SMS list asks for (texts: appt_sms_hint), per answer.
_LETTERS = {"confirm": "c", "reschedule": "r", "cancel": "x"}


@command("appointments")
async def appointments(turn: Turn, arg: str) -> None:
    """List upcoming appointments."""
    finish(turn)
    rows = await turn.conn.fetch(
        query("bot", "upcoming_appointments"), turn.conv.patient_id, turn.now
    )
    if not rows:
        turn.say(turn.t("no_appointments"))
        return
    labels = {
        "confirm": turn.t("btn_confirm"),
        "reschedule": turn.t("btn_reschedule"),
        "cancel": turn.t("btn_cancel_appt"),
    }
    numbered = turn.conv.channel in NUMBERED_CHANNELS
    lines: list[str] = []
    for row in rows:
        mark_sensitive(row["location"], row["clinician_name"])
        day, when = appointment_when(turn, row["starts_at"], row["clinic_timezone"])
        line = turn.t(
            "appointment_line",
            date=texts.fmt_date(day, turn.locale, "full"),
            time=when,
            clinic=row["clinic_name"],
            where=f" ({row['location']})" if row["location"] else "",
        )
        if numbered:
            lines.append(line)
            continue
        # Reminder-style buttons reach bot.dialogs.answers from any step.
        turn.replies.append(_buttons(line, row["id"], labels))
    if numbered:
        # Letters, never the word CANCEL (a carrier opt-out); they answer the next appointment.
        turn.say("\n".join([*lines, "", turn.t("appt_sms_hint")]))
    # Typed answers (letters here; the buttons' words everywhere) are about the next one.
    await _ask_about(turn, rows[0]["id"], labels, letters=numbered)


async def _ask_about(
    turn: Turn, appointment_id: UUID, labels: dict[str, str], *, letters: bool
) -> None:
    """Record the question the list asks about ``appointment_id`` (see bot.routing)."""
    options = [
        {"label": labels[key], "data": data, "keys": [_LETTERS[key]] if letters else []}
        for key, data in appointment_answer_options(appointment_id)
    ]
    await ask_question(turn, options, appointment_id=appointment_id)


def _buttons(line: str, appointment_id: UUID, labels: dict[str, str]) -> Reply:
    return Reply(
        text=line,
        raw_options=tuple(
            (labels[key], data) for key, data in appointment_answer_options(appointment_id)
        ),
    )
