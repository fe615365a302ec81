"""A turn's replies as rows of ``scheduled_messages``, written in the turn's own transaction.

Every bot reply takes the durable outbound path of every other message: :func:`store_replies`
inserts the turn's replies as ``processing`` rows leased to this process (a lease like the
dispatcher's claim, ``MEDREMIND_LEASE_SECONDS``), in the transaction that records the turn. After
the commit :func:`bot.delivery.send_replies` sends them at once and records each outcome as the
dispatcher does. Whatever this process cannot finish (a provider 5xx, a hard kill after the commit,
the lease running short) the dispatcher finishes: an expired lease goes back to ``pending`` through
the reaper, a failed send is recorded ``pending`` with its backoff. So a reply is stored, retried
and visible like every message, and a provider failure delays it but never loses it.

A row answers its chat (``conversation_id``; the dispatcher sends to that chat's address on the
row's platform, nowhere else), urgent (quiet hours never hold a reply: the person just wrote),
``system``, with its buttons in the payload. The chat's patient owns it; a chat without one (a
stranger mid-registration) gets rows without a patient and clinic (see migration
20260101009000). The replies of one turn arrive in order: each row after the first is written due
only at its expiry and named by its predecessor (payload ``then``), which releases it when done;
one sent in its turn while still held is scheduled when it went out (migration 20260101015100).

An SMS reply over the sender's segment cap is split into several rows, one per message sent.
A reply's files (a chart, a CSV) are stored beside its row (:mod:`core.reply_files`, payload
``files``: how many) for the dispatcher's retry, and deleted once the row is final.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from bot.context import BotContext
from bot.conversation import Reply
from core.logs import mark_sensitive
from core.reply_files import check_files, store_files
from core.sql import query
from core.templating import count_segments
from platforms.base import Channel, Option, OutboundMessage
from scheduler.dispatch_config import default_worker_id

# A reply answers what the person just wrote: half an hour later they have left the chat, and
# the reply (a question above all) may no longer match the dialog. Past it the dispatcher marks
# the row expired rather than send it; a newer reply to the chat supersedes it sooner (migration
# 20260101016950).
REPLY_LIFETIME_SECONDS = 30 * 60
# The payload key of a reply that says what was recorded (bot.conversation.Reply.recorded): a
# newer reply does not supersede it (migration 20260101017150), its half hour still holds.
RECORDED_KEY = "recorded"


@dataclass(frozen=True, slots=True)
class StoredReply:
    """One stored reply: its row, its lease token and the message to send."""

    id: UUID
    lease_token: UUID
    message: OutboundMessage
    edit: bool = False  # edit the message whose button was pressed, when the channel can


@dataclass(frozen=True, slots=True)
class StoredReplies:
    """A turn's stored replies, in order, to one chat; every send must end by ``lease_ends``
    (``time.monotonic()``), when the reaper may hand the rows to the dispatcher."""

    channel: Channel
    address: str
    replies: tuple[StoredReply, ...]
    lease_ends: float


def to_outbound(reply: Reply, options: Sequence[Option]) -> OutboundMessage:
    """The port's message for one reply.

    Options whose labels are typed as they are (:attr:`Reply.typed_labels`) name themselves as
    their typed replies: a text channel then appends no numbered menu (the question says what
    to type), while WhatsApp and Telegram still show them as buttons.
    """
    keys = tuple(o.label for o in options) if reply.typed_labels else ()
    return OutboundMessage(
        text=reply.text,
        options=tuple(options),
        columns=reply.columns,
        attachments=reply.attachments,
        kind="system",
        reply_keys=keys,
    )


def fit_segments(sender: Any, message: OutboundMessage) -> list[OutboundMessage]:
    """Split a text too long for an SMS sender's segment cap into several messages.

    Cuts at line and sentence ends; the options and any files go with the last part (once).
    Senders without a cap (Telegram splits by itself) get the message unchanged.
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
    messages = [
        dataclasses.replace(message, text=part.strip(), options=(), attachments=())
        for part in parts
    ]
    last = dataclasses.replace(
        messages[-1], options=message.options, attachments=message.attachments
    )
    if count_segments(compose(last))[1] > cap:
        messages.append(dataclasses.replace(message, text=""))
    else:
        messages[-1] = last
    return [m for m in messages if m.text or m.options or m.attachments]


async def store_replies(
    conn: asyncpg.Connection,
    ctx: BotContext,
    channel: Channel,
    address: str,
    replies: Sequence[Reply],
    rendered: Sequence[Sequence[Option]],
    turn_key: str,
    *,
    telegram_bot: str | None = None,
) -> StoredReplies:
    """Insert ``replies`` (with their ``rendered`` options) to the chat ``(channel, address)`` as
    rows leased to this process; call inside the turn's transaction.

    ``turn_key`` names the turn (the stored update's id): the rows' idempotency keys derive from
    it, so a turn stores its replies once. Replies with nothing to send are left out.
    ``telegram_bot``: the bot the person wrote to, when not the default (the update's
    ``to_address``): the dispatcher sends a reply it finishes through that bot. Raises
    :class:`core.reply_files.ReplyFileTooLarge` for a file that cannot be stored (the dialogs
    check the limit first).
    """
    sender = ctx.senders.get(channel)
    messages: list[tuple[OutboundMessage, bool]] = []
    recorded: list[bool] = []
    for reply, options in zip(replies, rendered, strict=True):
        mark_sensitive(reply.text)
        message = to_outbound(reply, options)
        if not message.text and not message.options and not message.attachments:
            continue
        check_files(message.attachments)
        parts = fit_segments(sender, message) if sender is not None else [message]
        messages.extend((part, reply.edit and len(parts) == 1) for part in parts)
        recorded.extend(reply.recorded for _ in parts)
    if not messages:
        return StoredReplies(channel, address, (), 0.0)
    ids = [uuid4() for _ in messages]
    tokens = [uuid4() for _ in messages]
    payloads: list[dict[str, Any]] = []
    for n, (message, _edit) in enumerate(messages):
        payload: dict[str, Any] = {}
        if recorded[n]:
            payload[RECORDED_KEY] = True  # Reply.recorded: not superseded
        if telegram_bot is not None and channel is Channel.TELEGRAM:
            payload["telegram_bot"] = telegram_bot  # platforms.telegram_bots.REPLY_BOT_KEY
        if message.options:
            payload["options"] = [[o.label, o.data] for o in message.options]
            payload["columns"] = message.columns
            if message.reply_keys:
                # Options typed as their labels (Reply.typed_labels): the dispatcher, sending
                # the reply later, must not number them either.
                payload["reply_keys"] = list(message.reply_keys)
        if message.attachments:
            payload["files"] = len(message.attachments)
        if n + 1 < len(messages):
            payload["then"] = str(ids[n + 1])
        payloads.append(payload)
    lease = ctx.settings.worker_lease_seconds
    # Taken before the statement: the lease the database grants ends no earlier than this.
    lease_ends = time.monotonic() + lease
    inserted = await conn.fetch(
        query("bot", "store_replies"),
        channel.value,
        address,
        REPLY_LIFETIME_SECONDS,
        f"reply:{default_worker_id()}",
        lease,
        ids,
        [m.text for m, _ in messages],
        payloads,
        [f"reply:{turn_key}:{n}" for n in range(len(messages))],
        tokens,
    )
    stored = {row["id"] for row in inserted}
    await store_files(
        conn,
        [
            (row_id, message.attachments)
            for row_id, (message, _) in zip(ids, messages, strict=True)
            if message.attachments and row_id in stored
        ],
    )
    return StoredReplies(
        channel,
        address,
        tuple(
            StoredReply(row_id, token, message, edit)
            for row_id, token, (message, edit) in zip(ids, tokens, messages, strict=True)
            if row_id in stored
        ),
        lease_ends,
    )
