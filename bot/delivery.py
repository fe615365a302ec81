"""Sending a turn's replies through the channel senders.

Options go out as ``t:<token>`` button data (the sender renders them as an inline keyboard on
Telegram, numbered replies on SMS and WhatsApp). A reply marked ``edit`` replaces the message the
pressed button belongs to when the sender can edit (Telegram) and is sent as new otherwise.
Failures are logged by error class only, never with the text.

A reply goes out at once (the patient is looking at the chat), and one the provider does not take
(a 5xx, a timeout, a long rate limit) is handed to the durable outbound path: a
``scheduled_messages`` row on the conversation's channel that the dispatcher sends with its
retries and backoff, visible like every message (:func:`queue_reply`). So a provider failure
delays a reply but does not lose it. Only a permanent refusal (the bot blocked, the number
invalid) is not queued, and a reply to someone who is not a patient yet has no row to go in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from typing import Any
from uuid import uuid4

from bot.context import BotContext
from bot.conversation import Reply
from core.logs import mark_sensitive
from core.sql import query
from core.templating import count_segments
from platforms.base import (
    Channel,
    InboundEvent,
    Option,
    OutboundMessage,
    PermanentError,
    RateLimitedError,
    TransientError,
)

logger = logging.getLogger(__name__)


def to_outbound(reply: Reply, options: list[Option]) -> OutboundMessage:
    """The port's message for one reply."""
    return OutboundMessage(
        text=reply.text,
        options=tuple(options),
        columns=reply.columns,
        attachments=reply.attachments,
        kind="system",
    )


async def send_replies(
    ctx: BotContext,
    channel: Channel,
    address: str,
    replies: list[Reply],
    rendered: list[list[Option]],
    event: InboundEvent | None = None,
) -> int:
    """Send every reply in order; returns how many went out or were queued. Never raises.

    A reply that fails other than permanently is queued for the dispatcher
    (:func:`queue_reply`), and the replies after it too, so they arrive in order.
    """
    sender = ctx.senders.get(channel)
    if event is not None and ctx.sender_for_number is not None:
        # The patient wrote to a clinic's own number (or its messaging service's): the reply
        # leaves from that account.
        for ours in (event.to_address, event.to_service):
            own = ctx.sender_for_number(channel, ours) if ours else None
            if own is not None:
                sender = own
                break
    if sender is None:
        logger.warning("no sender for channel", extra={"channel": channel.value})
        await _answer_callback(sender, event)
        return 0
    sent = 0
    answered = False
    queue_rest = False
    for index, (reply, options) in enumerate(zip(replies, rendered, strict=True)):
        mark_sensitive(reply.text)
        message = to_outbound(reply, options)
        if queue_rest:
            sent += await queue_reply(ctx, channel, address, message, event, index, None)
            continue
        try:
            if (
                reply.edit
                and event is not None
                and await _try_edit(sender, address, event, message)
            ):
                sent += 1
                continue
            if not answered:
                answered = await _answer_callback(sender, event)
            for part in fit_segments(sender, message):
                await _send_with_retry(sender, address, part)
            sent += 1
        except PermanentError as exc:  # blocked, invalid: a retry would be refused too
            logger.warning(
                "reply not delivered",
                extra={"channel": channel.value, "error_class": type(exc).__name__},
            )
        except Exception as exc:  # a failed reply must not undo the recorded turn
            logger.warning(
                "reply not sent at once",
                extra={"channel": channel.value, "error_class": type(exc).__name__},
            )
            queued = await queue_reply(
                ctx, channel, address, message, event, index, type(exc).__name__
            )
            queue_rest = bool(queued)
            sent += queued
        except asyncio.CancelledError:
            # The process is stopping (shutdown grace over) after the turn was recorded: the
            # turn will not run again, so this reply and the rest go to the durable path.
            for later, (rest, rest_options) in enumerate(rendered_rest(replies, rendered, index)):
                await queue_reply(
                    ctx,
                    channel,
                    address,
                    to_outbound(rest, rest_options),
                    event,
                    index + later,
                    "cancelled at shutdown",
                )
            raise
    if not answered:
        await _answer_callback(sender, event)
    return sent


def rendered_rest(
    replies: list[Reply], rendered: list[list[Option]], start: int
) -> list[tuple[Reply, list[Option]]]:
    """The replies from ``start`` on, each with its options."""
    return list(zip(replies[start:], rendered[start:], strict=True))


# A reply is worth one short wait: the patient is looking at the chat right now.
MAX_REPLY_WAIT_SECONDS = 5.0
# A queued reply older than this would answer a question the patient no longer has in mind.
QUEUED_REPLY_LIFETIME_SECONDS = 24 * 3600


async def queue_reply(
    ctx: BotContext,
    channel: Channel,
    address: str,
    message: OutboundMessage,
    event: InboundEvent | None,
    index: int,
    error: str | None,
) -> int:
    """Store ``message`` to the conversation at ``address`` for the dispatcher to send (1), or
    log why it cannot be (0): the conversation has no patient yet, or the database failed.

    The row is ``kind='system'`` on ``channel`` only, urgent (the patient just wrote), with the
    options in its payload; its idempotency key names the inbound update and the reply's place,
    so a turn resumed after a crash queues it once. Attachments (a chart) are not stored: the
    text goes, the picture is lost.
    """
    if not message.text:
        return 0
    key = (
        f"reply:{event.channel.value}:{event.provider_id}:{index}"
        if event is not None and event.provider_id
        else f"reply:{uuid4()}"
    )
    payload = {
        "options": [[option.label, option.data] for option in message.options],
        "columns": message.columns,
    }
    try:
        async with ctx.pool.acquire() as conn:
            queued = await conn.fetchrow(
                query("bot", "queue_reply"),
                channel.value,
                address,
                message.text,
                payload,
                QUEUED_REPLY_LIFETIME_SECONDS,
                key,
                f"first send failed: {error}" if error else None,
            )
    except Exception as exc:
        logger.error("reply lost: not queued", extra={"error_class": type(exc).__name__})
        return 0
    if queued is None:
        # No patient behind the conversation (a stranger mid-registration), or queued before.
        logger.warning("reply not queued", extra={"channel": channel.value})
        return 0
    logger.info("reply queued for the dispatcher", extra={"channel": channel.value})
    return 1


async def _send_with_retry(sender: Any, address: str, message: OutboundMessage) -> None:
    """Send, retrying once after a short rate-limit wait or a transient failure."""
    try:
        await sender.send(address, message)
    except RateLimitedError as exc:
        if exc.retry_after > MAX_REPLY_WAIT_SECONDS:
            raise
        await asyncio.sleep(exc.retry_after)
        await sender.send(address, message)
    except TransientError:
        await asyncio.sleep(0.2)
        await sender.send(address, message)


async def _try_edit(
    sender: Any, address: str, event: InboundEvent, message: OutboundMessage
) -> bool:
    """Edit the reminder in place when the channel supports it."""
    edit = getattr(sender, "edit", None)
    if edit is None or not event.reply_to_message_id:
        return False
    try:
        await edit(address, event.reply_to_message_id, message)
    except Exception as exc:  # too old to edit, deleted...: send it as a new message instead
        logger.info("edit failed, sending instead", extra={"error_class": type(exc).__name__})
        return False
    return True


async def _answer_callback(sender: Any, event: InboundEvent | None) -> bool:
    """Stop the Telegram button's spinner; harmless elsewhere."""
    if event is None or not event.callback_query_id or sender is None:
        return False
    answer = getattr(sender, "answer_callback", None)
    if answer is None:
        return False
    try:
        await answer(event.callback_query_id)
    except Exception as exc:
        logger.info("callback not answered", extra={"error_class": type(exc).__name__})
    return True


def fit_segments(sender: Any, message: OutboundMessage) -> list[OutboundMessage]:
    """Split a text too long for an SMS sender's segment cap into several messages.

    Cuts at line and sentence ends; the options go with the last part. Senders without a cap
    (Telegram splits by itself) get the message unchanged.
    """
    cap = getattr(sender, "max_segments", None)
    compose = getattr(sender, "compose", None)
    if not cap or compose is None or count_segments(compose(message))[1] <= cap:
        return [message]
    pieces = [p for p in re.split(r"(?<=\n)|(?<=[.?!] )", message.text) if p]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        while count_segments(piece)[1] > cap:  # one endless sentence: hard cut
            cut = 150
            parts.extend([current] if current else [])
            current = ""
            parts.append(piece[:cut])
            piece = piece[cut:]
        if current and count_segments(current + piece)[1] > cap:
            parts.append(current)
            current = ""
        current += piece
    if current:
        parts.append(current)
    messages = [dataclasses.replace(message, text=part.strip(), options=()) for part in parts]
    last = dataclasses.replace(messages[-1], options=message.options)
    if count_segments(compose(last))[1] > cap:
        messages.append(dataclasses.replace(message, text="", options=message.options))
    else:
        messages[-1] = last
    return [m for m in messages if m.text or m.options]
