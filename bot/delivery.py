"""Sending a turn's stored replies at once, and recording what happened as the dispatcher does.

The replies are rows of ``scheduled_messages`` leased to this process, written in the turn's
transaction (:mod:`bot.reply_rows`). :func:`send_replies` sends them in order, each inside the
lease, and records every outcome through the dispatcher's record path
(``scheduler.claims.record``: the row's status, its attempt rows, guarded by the lease token), in
statements shared by the turns that finish at once (:mod:`bot.reply_records`). A reply the
provider does not take at once (a 5xx or a timeout after one quick retry, a long rate limit) is
recorded ``pending`` for the dispatcher, which sends it with its retries and backoff; the replies
after it wait for it (:mod:`bot.reply_rows` keeps them in order). A permanent refusal (the bot
blocked, the chat gone, the number unsubscribed) fails the row and marks the chat's contact point
as the dispatcher does (``scheduler.claims.mark_contacts``: blocked, opted out or invalid), so
reminders stop going there. Whatever is not recorded (the process died) the reaper hands back to
the dispatcher when the lease expires.

Options go out as ``t:<token>`` button data (the sender renders them as an inline keyboard on
Telegram, numbered replies on SMS and WhatsApp). A reply marked ``edit`` replaces the message the
pressed button belongs to when the sender can edit (Telegram) and is sent as new otherwise.
Failures are logged by error class only, never with the text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from bot.context import BotContext
from bot.reply_records import recorder_for
from bot.reply_rows import StoredReplies, StoredReply
from core.sql import query
from platforms.base import (
    Channel,
    ContactEffect,
    InboundEvent,
    OutboundMessage,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    Receipt,
    TransientError,
)
from scheduler.backoff import backoff_delay
from scheduler.breaker import BreakerHeldError
from scheduler.claims import AttemptRow, Outcome, mark_contacts
from scheduler.delivery_results import error_text

logger = logging.getLogger(__name__)

# A reply is worth one short wait: the person is looking at the chat right now.
MAX_REPLY_WAIT_SECONDS = 5.0
# A send ends this long before the lease does (clock drift, the statement that records it).
LEASE_MARGIN_SECONDS = 2.0
# Less lease left than this: the dispatcher sends the rest.
MIN_SEND_SECONDS = 1.0
# A send's own bound, as the dispatcher's (DispatcherConfig.send_timeout_seconds).
SEND_TIMEOUT_SECONDS = 30.0


class _Outcomes:
    """The outcomes and attempt rows of a turn's sends, recorded together at the end."""

    def __init__(self, ctx: BotContext, stored: StoredReplies, bot: str | None = None) -> None:
        self.ctx = ctx
        self.channel = str(stored.channel)
        self.address = stored.address
        # Telegram: the bot the replies went through (None: the default bot).
        self.bot = bot
        self.outcomes: list[Outcome] = []
        self.attempts: list[AttemptRow] = []
        # A permanent error's mark on the chat's contact point (ContactEffect), with its error.
        self.effect: tuple[str, str] | None = None

    def sent(self, reply: StoredReply, receipt: Receipt, at: datetime, started: float) -> None:
        self.outcomes.append(
            Outcome(
                reply.id,
                reply.lease_token,
                "sent",
                sent_at=at,
                provider_message_id=receipt.provider_message_id,
                channel_used=self.channel,
                channels_tried=(self.channel,),
            )
        )
        self.attempts.append(
            AttemptRow(
                reply.id,
                at,
                "sent",
                self.channel,
                provider_message_id=receipt.provider_message_id,
                duration_ms=_ms_since(started),
            )
        )

    def failed(self, reply: StoredReply, exc: PermanentError, started: float) -> None:
        error = f"{self.channel}: {error_text(exc)}"
        if exc.effect != ContactEffect.NONE:
            self.effect = (str(exc.effect), error)
        self.outcomes.append(
            Outcome(
                reply.id,
                reply.lease_token,
                "failed",
                last_error=error,
                channels_tried=(self.channel,),
            )
        )
        self.attempts.append(
            AttemptRow(
                reply.id,
                self.ctx.now(),
                "failed",
                self.channel,
                "permanent",
                error,
                duration_ms=_ms_since(started),
            )
        )

    def retry(
        self, reply: StoredReply, exc: BaseException, started: float, *, unknown: bool = False
    ) -> None:
        """Not taken now: the dispatcher retries (after ``retry_after`` for a rate limit)."""
        now = self.ctx.now()
        if isinstance(exc, RateLimitedError):
            error_class, status = "rate_limited", "rate_limited"
            next_time = now + timedelta(seconds=exc.retry_after)
        else:
            error_class, status = "transient", "unknown" if unknown else "failed"
            next_time = now + backoff_delay(1, base=self.ctx.settings.retry_base_seconds)
        error = f"{self.channel}: {_error(exc)}"
        self.outcomes.append(
            Outcome(reply.id, reply.lease_token, "pending", next_time=next_time, last_error=error)
        )
        self.attempts.append(
            AttemptRow(
                reply.id,
                now,
                status,
                self.channel,
                error_class,
                error,
                duration_ms=_ms_since(started),
            )
        )

    def unsent(self, replies: tuple[StoredReply, ...], why: str) -> None:
        """Back to the dispatcher unsent, the attempt not counted."""
        self.outcomes.extend(
            Outcome(r.id, r.lease_token, "pending", attempts_delta=-1, last_error=why)
            for r in replies
        )

    async def record(self) -> None:
        if not self.outcomes:
            return
        try:
            applied, erased = await recorder_for(self.ctx.pool).record(self.outcomes, self.attempts)
        except Exception as exc:  # the leases expire and the reaper hands the rows on
            logger.error("reply outcomes not recorded", extra={"error_class": type(exc).__name__})
            return
        lost = len(self.outcomes) - applied - erased
        if lost:
            logger.warning("reply outcomes not applied: lease lost", extra={"count": lost})
        if self.effect is not None:
            await self._mark_contact(*self.effect)

    async def _mark_contact(self, effect: str, error: str) -> None:
        """Mark the chat's contact point after a permanent error, as the dispatcher's record
        does (its route: the patient's usable contact point of this chat; a chat that is nobody's
        contact point yet has none to mark)."""
        try:
            async with self.ctx.pool.acquire() as conn:
                contact = await conn.fetchrow(
                    query("bot", "get_contact_point"), self.channel, self.address
                )
                if contact is None or not (
                    contact["active"]
                    and contact["opted_out_at"] is None
                    and contact["blocked_at"] is None
                ):
                    return
                if self.channel == Channel.TELEGRAM.value and not self._contacts_bot(contact):
                    # The chat id is the person's with every bot: a refusal by another bot (one
                    # they blocked, a clinic's) says nothing of the bot their reminders use.
                    return
                await mark_contacts(conn, [(contact["id"], effect, error)], self.ctx.now())
        except Exception as exc:  # the next reminder's permanent error marks it in the worker
            logger.error("contact point not marked", extra={"error_class": type(exc).__name__})

    def _contacts_bot(self, contact: Any) -> bool:
        """Whether the replies went through the bot of the chat's contact point."""
        default = getattr(self.ctx.senders.get(Channel.TELEGRAM), "default_id", None)
        return (contact["telegram_bot"] or default) == (self.bot or default)


async def send_replies(
    ctx: BotContext, stored: StoredReplies, event: InboundEvent | None = None
) -> int:
    """Send the stored replies in order and record the outcomes; returns how many went out.

    Never raises but ``CancelledError`` (shutdown), after recording what it did: the replies not
    sent yet go back to the dispatcher.
    """
    sender = ctx.senders.get(stored.channel)
    if event is not None and ctx.sender_for_number is not None:
        # The patient wrote to a clinic's own number (or its messaging service's): the reply
        # leaves from that account.
        for ours in (event.to_address, event.to_service):
            own = ctx.sender_for_number(stored.channel, ours) if ours else None
            if own is not None:
                sender = own
                break
    outcomes = _Outcomes(ctx, stored, event.to_address if event is not None else None)
    sent = 0
    answered = False
    replies = stored.replies
    for index, reply in enumerate(replies):
        if sender is None:
            logger.warning("no sender for channel", extra={"channel": outcomes.channel})
            outcomes.unsent(replies[index:], "no sender for the channel in the web process")
            break
        budget = min(
            SEND_TIMEOUT_SECONDS, stored.lease_ends - LEASE_MARGIN_SECONDS - time.monotonic()
        )
        if budget < MIN_SEND_SECONDS:
            outcomes.unsent(replies[index:], "the reply's lease ran short before the send")
            break
        started = time.perf_counter()
        at = ctx.now()
        try:
            async with asyncio.timeout(budget):
                if not answered and not reply.edit:
                    answered = await _answer_callback(sender, event)
                receipt = await _send_one(sender, stored.address, reply, event)
        except PermanentError as exc:  # blocked, invalid: a retry would be refused too
            logger.warning(
                "reply not delivered",
                extra={"channel": outcomes.channel, "error_class": type(exc).__name__},
            )
            outcomes.failed(reply, exc, started)
            continue
        except BreakerHeldError as exc:
            # The account's circuit breaker holds its sends (a refused bot token, an outage;
            # its opening is logged once, not per reply): this reply and the rest go to the
            # dispatcher unsent, attempts unspent, which sends them, in order, once its probe
            # finds the account working (medremind.web.reply_breakers).
            outcomes.unsent(replies[index:], error_text(exc))
            break
        except Exception as exc:  # any other failure: the dispatcher retries it
            logger.warning(
                "reply not sent at once",
                extra={"channel": outcomes.channel, "error_class": type(exc).__name__},
            )
            unknown = isinstance(exc, TimeoutError | OutcomeUnknownError)
            outcomes.retry(reply, exc, started, unknown=unknown)
            outcomes.unsent(replies[index + 1 :], "waiting for the reply before it")
            break
        except asyncio.CancelledError:
            # The process is stopping (shutdown grace over) after the turn was recorded: this
            # reply (perhaps already at the provider) and the rest go to the dispatcher.
            outcomes.retry(reply, _Cancelled("cancelled at shutdown"), started, unknown=True)
            outcomes.unsent(replies[index + 1 :], "cancelled at shutdown before sending")
            await outcomes.record()
            raise
        outcomes.sent(reply, receipt, at, started)
        sent += 1
    if not answered:
        await _answer_callback(sender, event)
    await outcomes.record()
    return sent


class _Cancelled(Exception):
    """The send was cut short by the process stopping."""


def _error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return error_text(exc)


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def _send_one(
    sender: Any, address: str, reply: StoredReply, event: InboundEvent | None
) -> Receipt:
    """Edit the pressed message in place when asked and possible, else send."""
    if reply.edit and event is not None:
        receipt = await _try_edit(sender, address, event, reply.message)
        if receipt is not None:
            return receipt
    return await _send_with_retry(sender, address, reply.message)


async def _send_with_retry(sender: Any, address: str, message: OutboundMessage) -> Receipt:
    """Send, retrying once after a short rate-limit wait or a transient failure."""
    try:
        receipt: Receipt = await sender.send(address, message)
    except RateLimitedError as exc:
        if exc.retry_after > MAX_REPLY_WAIT_SECONDS:
            raise
        await asyncio.sleep(exc.retry_after)
        receipt = await sender.send(address, message)
    except TransientError:
        await asyncio.sleep(0.2)
        receipt = await sender.send(address, message)
    return receipt


async def _try_edit(
    sender: Any, address: str, event: InboundEvent, message: OutboundMessage
) -> Receipt | None:
    """Edit the reminder in place when the channel supports it; None when it did not."""
    edit = getattr(sender, "edit", None)
    if edit is None or not event.reply_to_message_id:
        return None
    try:
        receipt: Receipt = await edit(address, event.reply_to_message_id, message)
    except Exception as exc:  # too old to edit, deleted...: send it as a new message instead
        logger.info("edit failed, sending instead", extra={"error_class": type(exc).__name__})
        return None
    return receipt


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
