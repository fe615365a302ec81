"""Taken or Skip pressed on a reminder: the whole turn, its reply stored, in one statement.

That press is most of the bot's traffic: every reminder asks for one. The general turn
(:func:`bot.intake.process_inbound`) spends several statements on it: BEGIN, lock the update and
its conversation, record the answer, save the turn, store the reply, COMMIT. Here one call of the
SQL function ``answer_dose_button_reply`` (migration 20260101010400) does what that turn does on
its own when nothing else is in play: it takes the same locks in the same order, records the
answer through the same ``record_final_dose_answer``, marks the update processed and stores the
reply as the general turn stores it (a row of ``scheduled_messages`` leased to this process,
:mod:`bot.reply_rows`). One statement is one transaction: the answer is recorded if and only if
its reply is stored. Whenever the engine could decide something else (no conversation yet, no
live patient, an opted-out chat, a chat marked blocked, whose press may bring the patient back,
a language to bring in step with the patient's, a dose of another day, whose reply names its
day), it changes nothing and the caller runs the general turn.

The reply is the general turn's reply, from the same texts (``bot.dialogs.answers``): the
reminder is edited to say what was recorded, or that the dose already had its answer; a dose that
is not the chat's patient's is "no longer active". The statement picks it from
:func:`reply_texts`, every text a press can get in every locale, so that no round trip is spent
between the answer and the reply; tests hold both paths to the same results.
"""

from __future__ import annotations

import functools
import json
import time
from datetime import time as time_of_day
from typing import Any
from uuid import UUID

from bot import texts
from bot.context import BotContext
from bot.delivery import send_replies
from bot.dialogs.answers import FINAL_STATUSES, already_recorded_text
from bot.reply_rows import (
    RECORDED_KEY,
    REPLY_LIFETIME_SECONDS,
    StoredReplies,
    StoredReply,
    fit_segments,
)
from core.answer_buttons import parse_dose_data
from core.logs import mark_sensitive
from core.messages import OutboundMessage
from core.sql import query
from platforms.base import Channel, InboundEvent
from platforms.telegram_bots import REPLY_BOT_KEY
from scheduler.dispatch_config import default_worker_id

# What answer_dose_button_reply returns in ``outcome``.
ANSWERED = "answered"  # recorded, the update processed and the reply stored: send it
DONE = "done"  # the update was processed before (a redelivery): nothing to do
GENERAL = "general"  # nothing changed: run the general turn

# Stands for the minutes in the texts of Taken, one per local hour (see reply_texts).
MINUTES = "{mm}"
# Stand for the dose in a reply, and for the minutes of its due time, its medicine's number and
# name in the words for it (see reply_texts); the statement fills them in.
WHAT = "{what}"
DUE_MINUTES = "{dmm}"
NUMBER = "{n}"
NAME = "{name}"
# The longest medicine name (core.template_vocabulary's medicine_name) for the size check.
_LONGEST_NAME = "x" * 60


def final_dose_answer(event: InboundEvent | None) -> tuple[UUID, str] | None:
    """``(dose id, "taken" | "skipped")`` when ``event`` is such a button press, else None."""
    if event is None or not event.button_data:
        return None
    answer = parse_dose_data(event.button_data)
    if answer is None or answer.answer not in FINAL_STATUSES:
        return None
    return answer.dose_event_id, answer.answer


def taken_text_of_hour(locale: str, hour: int) -> str:
    """``dialogs.answers.taken_text`` for a local time in ``hour``, :data:`MINUTES` for its
    minutes: every short time format of our locales writes the minutes as two digits."""
    label = texts.fmt_time(time_of_day(hour, 59), locale).replace("59", MINUTES)
    return texts.text(locale, "answer_taken", time=label, what=WHAT)


def dose_words_of_hour(locale: str, hour: int, *, name: bool, number: bool) -> str:
    """``texts.dose_words`` for a dose due in ``hour``, :data:`DUE_MINUTES` for its
    minutes and :data:`NAME` / :data:`NUMBER` for the medicine's name or number."""
    label = texts.fmt_time(time_of_day(hour, 59), locale).replace("59", DUE_MINUTES)
    return texts.dose_words(
        locale, label, name=NAME if name else None, number=NUMBER if number else None
    )


@functools.cache
def reply_texts() -> dict[str, dict[str, Any]]:
    """Every reply a press can get, per locale, as ``answer_dose_button_reply`` picks from."""
    return {
        locale: {
            "unknown": texts.text(locale, "answer_unknown"),
            "skipped": texts.text(locale, "answer_skipped", what=WHAT),
            "already": {
                status: already_recorded_text(locale, status, WHAT) for status in FINAL_STATUSES
            },
            "taken": [taken_text_of_hour(locale, hour) for hour in range(24)],
            "what": {
                kind: [
                    dose_words_of_hour(locale, h, name=kind == "named", number=kind == "numbered")
                    for h in range(24)
                ]
                for kind in ("plain", "numbered", "named")
            },
        }
        for locale in texts.LOCALES
    }


@functools.cache
def _reply_texts_json() -> str:
    return json.dumps(reply_texts(), ensure_ascii=False)


def _reply_payload(event: InboundEvent) -> dict[str, str | bool]:
    """The reply row's payload, as ``bot.reply_rows.store_replies`` writes it for one text: the
    Telegram bot the person wrote to, when not the default, so a retry leaves from it too. Every
    reply of this turn says what was recorded (taken, skipped, already so): not superseded."""
    payload: dict[str, str | bool] = {RECORDED_KEY: True}
    if event.to_address is not None and event.channel is Channel.TELEGRAM:
        payload[REPLY_BOT_KEY] = event.to_address
    return payload


# id(sender) -> (sender, whether every reply text goes out as one message of it).
_FITS: dict[int, tuple[Any, bool]] = {}


def replies_fit(sender: Any) -> bool:
    """Whether each reply text is one message for ``sender`` (an SMS sender caps segments): the
    statement stores one row, where the general turn would split a longer text into several."""
    if sender is None or not getattr(sender, "max_segments", None):
        return True
    known = _FITS.get(id(sender))
    if known is None or known[0] is not sender:
        candidates = [
            text.replace(MINUTES, "59").replace(WHAT, longest)
            for table in reply_texts().values()
            for longest in [_longest_words(table)]
            for text in (
                table["unknown"],
                table["skipped"],
                *table["already"].values(),
                *table["taken"],
            )
        ]
        fits = all(
            len(fit_segments(sender, OutboundMessage(text=text, kind="system"))) == 1
            for text in candidates
        )
        known = _FITS[id(sender)] = (sender, fits)
    return bool(known[1])


def _longest_words(table: dict[str, Any]) -> str:
    """The longest words for a dose a reply of ``table`` can hold."""
    words = [
        w.replace(DUE_MINUTES, "59").replace(NUMBER, "99").replace(NAME, _LONGEST_NAME)
        for kind in table["what"].values()
        for w in kind
    ]
    return max(words, key=len)


async def try_dose_button_turn(ctx: BotContext, inbound_id: UUID, event: InboundEvent) -> bool:
    """Run the one-round-trip turn for ``event``; False when the general turn must run instead.

    ``event`` is the update as stored under ``inbound_id`` (the caller parsed and stored it). A
    database error propagates, with nothing changed: the statement is atomic.
    """
    pressed = final_dose_answer(event)
    if pressed is None or not replies_fit(ctx.senders.get(event.channel)):
        return False
    dose_id, answer = pressed
    lease = ctx.settings.worker_lease_seconds
    # Taken before the statement: the lease the database grants ends no earlier than this.
    lease_ends = time.monotonic() + lease
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow(
            query("dose_answers", "answer_dose_button_reply"),
            inbound_id,
            dose_id,
            answer,
            ctx.now(),
            list(texts.LOCALES),
            _reply_texts_json(),
            f"reply:{default_worker_id()}",
            lease,
            REPLY_LIFETIME_SECONDS,
            _reply_payload(event),
        )
    outcome = row["outcome"]
    if outcome == GENERAL:
        return False
    if outcome == DONE:
        return True
    mark_sensitive(row["medication_name"])
    channel = Channel(row["channel"])
    replies: tuple[StoredReply, ...] = ()
    if row["reply_id"] is not None:  # None: stored by an earlier run of this very turn
        message = OutboundMessage(text=row["reply_text"], kind="system")
        replies = (StoredReply(row["reply_id"], row["lease_token"], message, row["edit"]),)
    stored = StoredReplies(channel, row["chat_address"], replies, lease_ends)
    await send_replies(ctx, stored, event)
    return True
