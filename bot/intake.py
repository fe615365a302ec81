"""Inbound updates: stored before they are acknowledged, then processed one chat at a time.

``store_inbound`` runs in the webhook before it answers 200 (a duplicate delivery returns
``None``). ``process_inbound`` loads the stored row and runs the engine inside one transaction that
holds the conversation row lock (``SELECT ... FOR UPDATE``), so updates for one chat apply one at a
time and a double tap cannot create two medicines; the replies go out after the commit.
The turn's replies are stored in that transaction, as rows of ``scheduled_messages`` leased to
this process (:mod:`bot.reply_rows`), and sent after the commit (:func:`bot.delivery.send_replies`):
a reply the process cannot send, even after a hard kill, is sent by the dispatcher.
``resume_unprocessed`` picks up rows a crashed process left as ``received``.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from bot import engine, texts
from bot.button_turn import try_dose_button_turn
from bot.context import BotContext
from bot.conversation import Conversation, Reply, Turn, clear_options, issue_options
from bot.delivery import send_replies
from bot.reply_rows import StoredReplies, store_replies
from core.erased_rows import is_erased_refusal
from core.logs import mark_sensitive
from core.sql import query
from platforms.base import Channel, InboundEvent, InboundKind

logger = logging.getLogger(__name__)

# Errors a turn meets only because another transaction ran at the same moment (PostgreSQL broke a
# deadlock by failing this one, a serialization conflict, a lock it would not wait for): the turn
# is run again, up to TURN_ATTEMPTS times in all, before the row is marked failed.
TRANSIENT_ERRORS = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.LockNotAvailableError,
)
TURN_ATTEMPTS = 3


def _runs_again(error: BaseException) -> bool:
    """Whether a turn that failed with ``error`` is run again: a concurrent transaction's
    conflict (:data:`TRANSIENT_ERRORS`), or a row refused because its patient's erasure
    committed while the turn waited for their row (:func:`core.erased_rows.is_erased_refusal`).
    Then the patient is gone, and "something went wrong" would be untrue and keep the failed
    update, their number and text with it; the turn run again meets the chat as the erasure left
    it, nobody's (its conversation unlinked, their contact points and invites deleted), and
    answers as to anyone's chat, forgetting the text as for any chat without a patient."""
    return isinstance(error, TRANSIENT_ERRORS) or is_erased_refusal(error)


# A stored update processed this long after it arrived waited for a process that crashed (or
# was killed) before its turn ran: it is read as written when it arrived, as a Telegram message
# delivered late is (medremind.web.telegram_late.LATE_SECONDS, the same bound). "Taken" sent at
# 8:05 PM and resumed at the next start-up was recorded at the start-up's time, told "Taken at
# 8:40 PM", and routed to the questions open then.
RESUMED_LATE_SECONDS = 120.0


def as_written(event: InboundEvent, received_at: datetime | None, now: datetime) -> InboundEvent:
    """``event`` as the turn reads it at ``now``: written when it arrived (``received_at``, by
    the receiving process's clock) if its turn runs :data:`RESUMED_LATE_SECONDS` or more after
    that; a time of writing the provider gave (earlier still) is kept."""
    if event.written_at is not None or received_at is None:
        return event
    if (now - received_at).total_seconds() < RESUMED_LATE_SECONDS:
        return event
    return dataclasses.replace(event, written_at=received_at.timestamp())


# InboundEvent's fields: all scalars, so a shallow copy is the whole of dataclasses.asdict's
# deep copy, at a fraction of its cost on every stored update.
_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(InboundEvent))


def event_to_payload(event: InboundEvent) -> dict[str, Any]:
    """The event as JSON (enums as their values)."""
    data = {name: getattr(event, name) for name in _EVENT_FIELDS}
    data["channel"] = event.channel.value
    data["kind"] = event.kind.value
    return data


def event_from_payload(data: dict[str, Any]) -> InboundEvent:
    """The inverse of :func:`event_to_payload`, ignoring unknown keys."""
    values = {k: v for k, v in data.items() if k in _EVENT_FIELDS}
    values["channel"] = Channel(values["channel"])
    values["kind"] = InboundKind(values["kind"])
    return InboundEvent(**values)


async def store_inbound(
    pool: asyncpg.Pool,
    event: InboundEvent,
    raw_payload: dict,
    *,
    received_at: datetime | None = None,
) -> UUID | None:
    """Insert the update into ``inbound_messages``; ``None`` when it was stored before.

    ``received_at``: now by the caller's clock, the one its senders measure WhatsApp's 24-hour
    window with (None: the database's now()).
    """
    mark_sensitive(event.text or None)
    payload = {"event": event_to_payload(event), "raw": raw_payload}
    async with pool.acquire() as conn:
        return await conn.fetchval(
            query("bot", "insert_inbound"),
            event.channel.value,
            str(event.provider_id),
            event.chat_address,
            payload,
            received_at,
        )


async def process_inbound(
    ctx: BotContext, inbound_id: UUID, event: InboundEvent | None = None
) -> None:
    """Run the dialog for one stored update, save the state and the replies, then send them.

    A row already processed (or failed) is left alone, so a redelivery has no second effect. A
    turn that failed only because of a concurrent one, or of its patient's erasure
    (:func:`_runs_again`), runs again. An internal error rolls the turn back, marks the row
    failed with the error's class name only and answers "something went wrong, please try
    again". ``event``: the update as the caller stored
    it, when it has it; a Taken or Skip press then takes the one-round-trip turn
    (:mod:`bot.button_turn`) when that applies.
    """
    for attempt in range(1, TURN_ATTEMPTS + 1):
        try:
            if event is not None and await try_dose_button_turn(ctx, inbound_id, event):
                return
            outcome = await _run_turn(ctx, inbound_id)
            break
        except Exception as exc:
            if not _runs_again(exc) or attempt == TURN_ATTEMPTS:
                await _failed(ctx, inbound_id, exc)
                return
            # The turn rolled back whole (its replies are sent only after the commit): run it
            # again, as the person asked, rather than tell them something went wrong.
            logger.warning(
                "inbound turn retried",
                extra={
                    "inbound_id": str(inbound_id),
                    "error_class": type(exc).__name__,
                    "attempt": attempt,
                },
            )
    if outcome is None:
        return
    stored, event = outcome
    await send_replies(ctx, stored, event)


async def _failed(ctx: BotContext, inbound_id: UUID, exc: Exception) -> None:
    logger.exception(
        "inbound processing failed",
        extra={"inbound_id": str(inbound_id), "error_class": type(exc).__name__},
    )
    await _fail(ctx, inbound_id, exc)


async def _run_turn(ctx: BotContext, inbound_id: UUID) -> tuple[StoredReplies, InboundEvent] | None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        locked = await _lock_turn(conn, inbound_id, ctx.settings.default_locale)
        if locked is None:
            return None
        event, conv, patient, received_at = locked
        step_before = conv.step
        now = ctx.now()
        event = as_written(event, received_at, now)
        turn = Turn(ctx=ctx, conn=conn, event=event, conv=conv, now=now, inbound_id=inbound_id)
        if patient is not _UNREAD:
            turn.patient, turn.patient_loaded = patient, True
        if (event.to_address is not None or event.to_service is not None) and await conn.fetchval(
            query("bot", "chat_of_another_clinic"),
            event.to_address,
            conv.chat_address,
            conv.patient_id,
            conv.channel.value,
            event.to_service,
        ):
            # A clinic's own bot or number, a person of another clinic (or of none): the clinic
            # holds its token, reads what it sends and can sign a webhook "from" anyone, so no
            # dialog runs for the person and nothing of their record goes out; the
            # conversation is left as it was.
            turn.say(turn.t("other_clinics_bot"))
        else:
            await engine.handle(turn)
        rendered = issue_options(conv, turn.replies, turn.now)
        if not any(rendered) and conv.step != step_before:
            clear_options(conv)
        saved = await conn.fetchval(
            query("bot", "finish_turn"),
            conv.id,
            conv.patient_id,
            conv.step,
            conv.state,
            conv.locale,
            inbound_id,
            conv.patient_id is None,
            turn.touch_contact,
            conv.channel.value,
            conv.chat_address,
            event.to_address if conv.channel is Channel.TELEGRAM else None,
        )
        if not saved:
            await _recreate_conversation(conn, conv)
        stored = await store_replies(
            conn,
            ctx,
            conv.channel,
            conv.chat_address,
            turn.replies,
            rendered,
            str(inbound_id),
            telegram_bot=event.to_address,
        )
        return stored, event


# The patient was not read with the lock (the engine reads it): unlike None, "no patient".
_UNREAD = object()


async def _lock_turn(
    conn: asyncpg.Connection, inbound_id: UUID, default_locale: str
) -> tuple[InboundEvent, Conversation, Any, datetime | None] | None:
    """Lock the stored update and its chat's conversation; None when there is nothing to do.
    A new chat's conversation speaks the sender's language, else ``default_locale``.

    Returns the event, the conversation, its patient record (None: no patient; ``_UNREAD``:
    the engine must read it) and when the update arrived. One round trip when the conversation
    exists (every chat after its first update) and no other turn of the chat committed while
    this one waited for the lock.
    """
    row = await conn.fetchrow(query("bot", "lock_turn"), inbound_id)
    if row is not None:
        if row["status"] != "received":
            return None
        event = event_from_payload(row["event"])
        mark_sensitive(event.text or None)
        patient = row["patient"] if row["patient_fresh"] else _UNREAD
        return event, Conversation.from_row(row), patient, row["received_at"]
    row = await conn.fetchrow(query("bot", "lock_inbound"), inbound_id)
    if row is None or row["status"] != "received":
        return None
    event = event_from_payload(row["payload"]["event"])
    mark_sensitive(event.text or None)
    await conn.execute(
        query("bot", "ensure_conversation"),
        event.channel.value,
        event.chat_address,
        texts.pick_locale(event.language_code, default_locale),
    )
    conv_row = await conn.fetchrow(
        query("bot", "lock_conversation"), event.channel.value, event.chat_address
    )
    return event, Conversation.from_row(conv_row), _UNREAD, row["received_at"]


async def _recreate_conversation(conn: asyncpg.Connection, conv: Conversation) -> None:
    """The patient's erasure removed the conversation during the turn: start the chat afresh."""
    await conn.execute(
        query("bot", "ensure_conversation"), conv.channel.value, conv.chat_address, conv.locale
    )


async def _fail(ctx: BotContext, inbound_id: UUID, exc: BaseException) -> None:
    """Mark the row failed (error class only) and tell the person to try again.

    A turn refused by an erasure every time it ran (:func:`_runs_again`; patients of one shared
    number erased one after the other can refuse it again and again) is a turn of a person whose
    records are gone, in a chat the erasure made nobody's: the row forgets its text and number,
    as a turn of such a chat does (``finish_turn``), and the answer asks them to try again, which
    then runs as a stranger's first message."""
    event: InboundEvent | None = None
    stored: StoredReplies | None = None
    erased = is_erased_refusal(exc)
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            # Read before the row forgets it: where the reply goes.
            row = await conn.fetchrow(query("bot", "lock_inbound"), inbound_id)
            await conn.execute(
                query("bot", "mark_inbound_failed"), inbound_id, type(exc).__name__, erased
            )
            if row is not None and row["status"] == "received":
                event = event_from_payload(row["payload"]["event"])
                mark_sensitive(event.text or None)
                # Back to idle, so a dialog whose state cannot be handled does not fail forever.
                await conn.execute(
                    query("bot", "reset_conversation"), event.channel.value, event.chat_address
                )
                locale = await conn.fetchval(
                    "select locale from conversations where channel = $1 and chat_address = $2",
                    event.channel.value,
                    event.chat_address,
                ) or texts.pick_locale(event.language_code, ctx.settings.default_locale)
                reply = Reply(text=texts.text(locale, "error"))
                # The failed turn's new conversation was rolled back with it: the reply needs one.
                await conn.execute(
                    query("bot", "ensure_conversation"),
                    event.channel.value,
                    event.chat_address,
                    locale,
                )
                stored = await store_replies(
                    conn,
                    ctx,
                    event.channel,
                    event.chat_address,
                    [reply],
                    [[]],
                    str(inbound_id),
                    telegram_bot=event.to_address,
                )
    except Exception as inner:
        logger.error("could not mark inbound failed", extra={"error_class": type(inner).__name__})
    if stored is not None:
        await send_replies(ctx, stored, event)


async def resume_unprocessed(
    ctx: BotContext, *, limit: int = 500, older_than_seconds: float = 0.0
) -> int:
    """Process rows still ``received`` (left by a crash) for at least ``older_than_seconds``;
    returns how many were attempted. A row another process is processing is left to it
    (:func:`process_inbound` locks the turn and leaves a processed row alone)."""
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(query("bot", "list_unprocessed"), limit, older_than_seconds)
    for row in rows:
        await process_inbound(ctx, row["id"])
    return len(rows)
