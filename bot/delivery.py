"""Sending a turn's replies through the channel senders.

Options go out as ``t:<token>`` button data (the sender renders them as an inline keyboard on
Telegram, numbered replies on SMS and WhatsApp). A reply marked ``edit`` replaces the message the
pressed button belongs to when the sender can edit (Telegram) and is sent as new otherwise.
Failures are logged by error class only, never with the text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from typing import Any

from bot.context import BotContext
from bot.conversation import Reply
from core.logs import mark_sensitive
from core.templating import count_segments
from platforms.base import (
    Channel,
    InboundEvent,
    Option,
    OutboundMessage,
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
    """Send every reply in order; returns how many went out. Never raises."""
    sender = ctx.senders.get(channel)
    if sender is None:
        logger.warning("no sender for channel", extra={"channel": channel.value})
        await _answer_callback(sender, event)
        return 0
    sent = 0
    answered = False
    for reply, options in zip(replies, rendered, strict=True):
        mark_sensitive(reply.text)
        message = to_outbound(reply, options)
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
        except Exception as exc:  # a failed reply must not undo the recorded turn
            logger.warning(
                "reply not delivered",
                extra={"channel": channel.value, "error_class": type(exc).__name__},
            )
    if not answered:
        await _answer_callback(sender, event)
    return sent


# A reply is worth one short wait: the patient is looking at the chat right now.
MAX_REPLY_WAIT_SECONDS = 5.0


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
