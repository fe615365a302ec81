"""Taken or Skip pressed on a reminder: the whole turn in one statement.

That press is most of the bot's traffic: every reminder asks for one. The general turn
(:func:`bot.intake.process_inbound`) spends five statements on it: lock the update and its
conversation, record the answer, save the turn, store the reply, and BEGIN/COMMIT around them.
Here one call of the SQL function ``answer_dose_button`` (migration 20260101007000) does what that
turn does on its own when nothing else is in play: it takes the same locks in the same order,
records the answer through the same ``record_final_dose_answer`` and marks the update processed;
the reply's row is stored in the same transaction (the answer is recorded if and only if its
reply is stored). Whenever the engine could decide something else (no conversation yet, no live
patient, an opted-out chat, a language to bring in step with the patient's), it changes nothing
and the caller runs the general turn.

The reply is the general turn's reply, from the same texts (``bot.dialogs.answers``): the
reminder is edited to say what was recorded, or that the dose already had its answer; a dose that
is not the chat's patient's is "no longer active". Tests hold both paths to the same results.
"""

from __future__ import annotations

from uuid import UUID

from bot import texts
from bot.context import BotContext
from bot.conversation import Reply
from bot.delivery import send_replies
from bot.dialogs.answers import FINAL_STATUSES, already_recorded_text, taken_text
from bot.reply_rows import store_replies
from core.answer_buttons import parse_dose_data
from core.logs import mark_sensitive
from core.sql import query
from platforms.base import Channel, InboundEvent

# What answer_dose_button returns in ``outcome``.
ANSWERED = "answered"  # recorded and the update processed: send the reply
DONE = "done"  # the update was processed before (a redelivery): nothing to do
GENERAL = "general"  # nothing changed: run the general turn


def final_dose_answer(event: InboundEvent | None) -> tuple[UUID, str] | None:
    """``(dose id, "taken" | "skipped")`` when ``event`` is such a button press, else None."""
    if event is None or not event.button_data:
        return None
    answer = parse_dose_data(event.button_data)
    if answer is None or answer.answer not in FINAL_STATUSES:
        return None
    return answer.dose_event_id, answer.answer


async def try_dose_button_turn(ctx: BotContext, inbound_id: UUID, event: InboundEvent) -> bool:
    """Run the one-round-trip turn for ``event``; False when the general turn must run instead.

    ``event`` is the update as stored under ``inbound_id`` (the caller parsed and stored it). A
    database error propagates, with nothing changed: the statement is atomic.
    """
    pressed = final_dose_answer(event)
    if pressed is None:
        return False
    dose_id, answer = pressed
    now = ctx.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            query("dose_answers", "answer_dose_button"),
            inbound_id,
            dose_id,
            answer,
            now,
            list(texts.LOCALES),
        )
        outcome = row["outcome"]
        if outcome == GENERAL:
            return False
        if outcome == DONE:
            return True
        locale = row["locale"]
        mark_sensitive(row["medication_name"])
        if not row["dose_found"]:
            reply = Reply(text=texts.text(locale, "answer_unknown"))
        elif not row["changed"] and row["dose_status"] in FINAL_STATUSES:
            reply = Reply(text=already_recorded_text(locale, row["dose_status"]), edit=True)
        elif answer == "taken":
            reply = Reply(text=taken_text(locale, now, row["timezone"]), edit=True)
        else:
            reply = Reply(text=texts.text(locale, "answer_skipped"), edit=True)
        # In the answer's transaction: the reply is stored if and only if the answer is.
        stored = await store_replies(
            conn,
            ctx,
            Channel(row["channel"]),
            row["chat_address"],
            [reply],
            [[]],
            str(inbound_id),
            telegram_bot=event.to_address,
        )
    await send_replies(ctx, stored, event)
    return True
