"""Several Telegram bots behind one channel: the service's capacity beyond one bot's 30/s.

Telegram lets a bot send about 30 messages a second to different chats, so 100,000 patients due
at 08:00 on one bot wait up to 56 minutes. :class:`TelegramBots` is the Telegram entry of the
senders (``platforms.registry.build_senders``): the bot of ``TELEGRAM_BOT_TOKEN`` (the default)
and those of ``MEDREMIND_TELEGRAM_BOTS``, each an ordinary :class:`TelegramSender` with its own
connection pool and its own ``rate_key`` (``telegram:<bot id>``), so the fleet's send ledger
(``scheduler.fleet_limits``) paces every bot apart at Telegram's 30/s.

A chat belongs to the bot the person started: a bot cannot write to someone who never started
it. So:

* a Telegram contact point records its bot (``contact_points.telegram_bot``, the bot's numeric
  id; NULL is the default bot, which every contact point made before several bots existed has);
* reminders go out through the contact point's bot, a bot reply through the bot the person wrote
  to (the reply row's ``payload.telegram_bot``): :meth:`TelegramBots.sender_for`, which the
  dispatcher asks for each send;
* each bot has its own webhook, ``/telegram/webhook/<bot id>`` with a secret of its own derived
  from ``TELEGRAM_WEBHOOK_SECRET`` (:func:`webhook_secret`), so an update arrives knowing its bot
  (``InboundEvent.to_address``); the default bot keeps ``/telegram/webhook``;
* new patients are sharded across the bots in proportion to each bot's rate
  (:meth:`TelegramBots.shard`): an invite link names the bot its patient will talk to.

``allow_paid_broadcast`` (Bot API ``sendMessage``): a clinic that enables it
(``organizations.telegram_paid_broadcast_after_seconds``) has its reminders that are at least that
late sent with the parameter, through the same bot, on a fleet key of their own
(``telegram:<bot id>:paid``) at 1,000/s; Telegram takes 0.1 Stars per such message from the
bot's balance, counted in ``medremind_telegram_paid_messages_total`` and
``medremind_telegram_stars_spent_total`` per bot. The clinic pays them out of its own monthly
allowance (``organizations.telegram_paid_stars_monthly``; NULL: none): each paid send is charged
to it in the database before it goes (:class:`PaidCharges`), and a clinic whose allowance is used
up has its messages sent unpaid at the bot's free rate; its statistics and ``GET
/api/v1/clinic`` show what it used. Replies never pay. Telegram bills only the paid requests
that went beyond the bot's free limits (its ``TransactionPartnerTelegramApi.request_count``), so
the count is what the clinic may have cost at most.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
from prometheus_client import Counter

from platforms.base import (
    Channel,
    ConfigurationError,
    OutboundMessage,
    PermanentError,
    RateLimitedError,
    Receipt,
)
from platforms.telegram import DEFAULT_BASE_URL, TelegramSender

if TYPE_CHECKING:
    from core.settings import Settings

logger = logging.getLogger(__name__)

# Telegram's own caps (Bot API FAQ; sendMessage allow_paid_broadcast).
FREE_RATE = 30.0
PAID_RATE = 1000.0
STARS_PER_PAID_MESSAGE = 0.1
# The payload key of a bot reply row that names the bot the person wrote to.
REPLY_BOT_KEY = "telegram_bot"
WEBHOOK_PATH = "/telegram/webhook"
_CHARGE_TIMEOUT_SECONDS = 10.0
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)

PAID_MESSAGES = Counter(
    "medremind_telegram_paid_messages_total",
    "Telegram messages sent with allow_paid_broadcast, by bot",
    ["bot"],
)
PAID_REFUSED = Counter(
    "medremind_telegram_paid_refused_total",
    "Telegram messages a clinic's allowance had no room for when charged, sent unpaid instead",
)
STARS_SPENT = Counter(
    "medremind_telegram_stars_spent_total",
    "Telegram Stars spent on allow_paid_broadcast messages (0.1 each), by bot",
    ["bot"],
)


def bot_id(token: str) -> str:
    """The bot's numeric id: the part of its token before the colon (public, not secret)."""
    return token.split(":", 1)[0]


def webhook_secret(master: str, bot: str) -> str:
    """The webhook secret of bot ``bot``: HMAC-SHA256 of its id under ``TELEGRAM_WEBHOOK_SECRET``
    (hex, within Telegram's ``secret_token`` alphabet), so one variable serves every bot and no
    bot's secret opens another bot's webhook."""
    return hmac.new(master.encode(), f"telegram-bot:{bot}".encode(), hashlib.sha256).hexdigest()


def webhook_path(bot: str) -> str:
    """The webhook path of a bot other than the default."""
    return f"{WEBHOOK_PATH}/{bot}"


class _ContactLike(Protocol):
    id: uuid.UUID
    channel: str
    bot: str | None


def missing_bot_reason(bot: str) -> str:
    """Why a chat on bot ``bot`` cannot be written to by this process (for the message's row)."""
    return (
        f"the chat's Telegram bot {bot} is not configured on this process (the clinic removed"
        " its own bot, or the service's bot is not in MEDREMIND_TELEGRAM_BOTS)"
    )


class UnknownBot:
    """A chat's bot that this process has no token for: every send is a ``ConfigurationError``
    (never another bot: it could not write to the chat, and would count as the chat's error)."""

    channel = Channel.TELEGRAM

    def __init__(self, bot: str) -> None:
        self.bot_id = bot
        self.rate_key = f"telegram:{bot}"

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Refuse, naming the variable that lacks the bot."""
        raise ConfigurationError(missing_bot_reason(self.bot_id))

    async def aclose(self) -> None:
        """Nothing to release."""


@dataclass(slots=True)
class _Charge:
    organization_id: uuid.UUID
    parts: int  # negative: a refund
    minute: datetime
    answer: asyncio.Future[bool] | None  # None: a refund, which nobody waits for


class PaidCharges:
    """Each clinic's paid broadcasts charged to its monthly allowance, before they are sent.

    A clinic pays for its paid broadcasts out of ``organizations.telegram_paid_stars_monthly``
    (0.1 Stars a message; NULL: no allowance). A paid send asks :meth:`charge` first: the
    charges of the sends that ask at the same time go in one statement
    (``charge_telegram_paid``, migration 20260101012600), which grants each only while its
    clinic's month stays within the allowance, whatever the other workers charge, and counts it
    at once (month and minute): a send goes paid only once its charge is committed, so a worker
    killed with SIGKILL loses no count. What it may count too much is bounded: the paid sends it
    had charged and not yet sent (at most ``MEDREMIND_WORKER_CONCURRENCY``).

    :meth:`may_pay` answers without a round trip, from the last known use of each clinic's month
    (the charges' answers and :meth:`load`): the dispatcher asks it to choose a paid or a free
    send before it waits for a rate slot.
    """

    def __init__(self) -> None:
        self.pool: asyncpg.Pool | None = None
        # Clinic -> [allowance (messages; None: none), used this month, charges in flight].
        self._view: dict[uuid.UUID, list[Any]] = {}
        self._queue: list[_Charge] = []
        self._task: asyncio.Task[None] | None = None
        self.refused = 0  # charges refused (the allowance used up), for tests and logs

    def load(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """The paying clinics' allowances and months as the database has them now."""
        view: dict[uuid.UUID, list[Any]] = {}
        for r in rows:
            flying = self._view.get(r["id"], [None, 0, 0])[2]
            view[r["id"]] = [r["allowance"], int(r["used"]), flying]
        self._view = view

    def may_pay(self, organization_id: uuid.UUID, parts: int = 1) -> bool:
        """Whether the clinic's allowance seems to have room for ``parts`` more messages."""
        seen = self._view.get(organization_id)
        if seen is None or seen[0] is None or self.pool is None:
            return False
        allowance, used, flying = seen
        return bool(used + flying + parts <= allowance)

    async def charge(self, organization_id: uuid.UUID, parts: int, at: datetime) -> bool:
        """Charge ``parts`` paid messages sent at ``at`` to the clinic; whether it may pay.

        False when the allowance has no room for them, and when the charge cannot be written
        (the database unreachable): a message is never sent paid uncounted.
        """
        if parts <= 0:
            return True
        if self.pool is None:
            return False
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Charge(organization_id, parts, _minute(at), answer))
        seen = self._view.setdefault(organization_id, [None, 0, 0])
        seen[2] += parts
        self._wake()
        try:
            return await answer
        finally:
            now_seen = self._view.get(organization_id)  # a load may have replaced it
            if now_seen is not None:
                now_seen[2] = max(0, now_seen[2] - parts)

    def refund(self, organization_id: uuid.UUID, parts: int, at: datetime) -> None:
        """Give back ``parts`` charged at ``at`` that Telegram refused (it charges nothing for
        a refused request); written with the next charges, or by :meth:`flush`."""
        if parts > 0 and self.pool is not None:
            self._queue.append(_Charge(organization_id, -parts, _minute(at), None))
            self._wake()

    async def flush(self) -> None:
        """Write every queued charge and refund now (a failure keeps the refunds queued)."""
        if self._queue:
            self._wake()
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    def _wake(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._charge_loop())

    async def _charge_loop(self) -> None:
        from core.sql import query

        while self._queue and self.pool is not None:
            batch, self._queue = self._queue, []
            try:
                rows = await self.pool.fetch(
                    query("telegram_bots", "charge_paid"),
                    [c.organization_id for c in batch],
                    [c.parts for c in batch],
                    [c.minute for c in batch],
                    timeout=_CHARGE_TIMEOUT_SECONDS,
                )
            except _DB_ERRORS as exc:
                error = type(exc).__name__
                logger.warning("charging paid broadcasts failed", extra={"error": error})
                for c in batch:
                    if c.answer is not None and not c.answer.done():
                        c.answer.set_result(False)  # sent unpaid: nothing to count
                # Refunds wait for the next statement (a few: one per send Telegram refused).
                self._queue[:0] = [c for c in batch if c.answer is None]
                return
            except BaseException:
                for c in batch:
                    if c.answer is not None and not c.answer.done():
                        c.answer.cancel()
                raise
            for c, row in zip(batch, rows, strict=True):
                seen = self._view.setdefault(c.organization_id, [None, 0, 0])
                seen[0], seen[1] = row["allowance"], int(row["used"])
                if c.answer is not None and not c.answer.done():
                    if not row["granted"]:
                        self.refused += 1
                        PAID_REFUSED.inc()
                    c.answer.set_result(bool(row["granted"]))


def _minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


class PaidBroadcast:
    """One bot's sends with ``allow_paid_broadcast``: its own fleet key at 1,000/s."""

    channel = Channel.TELEGRAM

    def __init__(self, bot: TelegramSender, rate: float = PAID_RATE) -> None:
        self.inner = bot
        self.bot_id = bot.rate_key.split(":", 1)[1]
        self.rate_key = f"{bot.rate_key}:paid"
        self.rate_per_second = rate
        # The paying clinic (:meth:`for_clinic`) and the allowance its messages are charged to.
        self.organization_id: uuid.UUID | None = None
        self.charges: PaidCharges | None = None

    def for_clinic(self, organization_id: uuid.UUID, charges: PaidCharges) -> PaidBroadcast:
        """The same bot's paid sends, charged to the clinic that pays them."""
        clinic = copy.copy(self)
        clinic.organization_id, clinic.charges = organization_id, charges
        return clinic

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Charge the clinic, then send with the parameter; count the messages and Stars.

        A charge refused (the clinic's allowance used up by another worker since the dispatcher
        chose this send, or the database unreachable) sends the message unpaid: a reminder is
        never held back for its Stars.
        """
        org, charges = self.organization_id, self.charges
        parts = self.inner.text_parts(message)
        at = datetime.now(UTC)
        if org is not None and charges is not None and parts > 0:
            granted = await charges.charge(org, parts, at)
            if not granted:
                return await self.inner.send(address, message)
        try:
            receipt = await self.inner.send(address, message, paid_broadcast=True)
        except (RateLimitedError, PermanentError, ConfigurationError):
            # Telegram refused the request: it charged nothing, so neither does the clinic.
            if org is not None and charges is not None:
                charges.refund(org, parts, at)
            raise
        paid = int((receipt.response or {}).get("paid_parts", parts))
        PAID_MESSAGES.labels(self.bot_id).inc(paid)
        STARS_SPENT.labels(self.bot_id).inc(paid * STARS_PER_PAID_MESSAGE)
        return receipt

    async def aclose(self) -> None:
        """The bot's connections belong to :class:`TelegramBots`."""


class TelegramBots:
    """The service's Telegram bots as one channel sender; see the module docstring."""

    channel = Channel.TELEGRAM

    def __init__(
        self,
        default: TelegramSender,
        others: Sequence[TelegramSender] = (),
        *,
        rate: float = FREE_RATE,
        paid_rate: float = PAID_RATE,
    ) -> None:
        self.default = default
        self.default_id = bot_id_of(default)
        self.rate = rate
        self.by_id: dict[str, Any] = {self.default_id: default}
        for other in others:
            self.by_id.setdefault(bot_id_of(other), other)
        self.paid_rate = paid_rate
        self._paid = {key: PaidBroadcast(bot, paid_rate) for key, bot in self.by_id.items()}
        # (bot, clinic) -> that bot's paid sends counted for the clinic; shared by the views.
        self._clinic_paid: dict[tuple[str, uuid.UUID], PaidBroadcast] = {}
        self.charges = PaidCharges()
        self._unknown: dict[str, UnknownBot] = {}
        # Clinic -> seconds late from which its reminders pay (``refresh``); shared with the
        # clinics' views (``with_clinic_bot``), so one refresh serves them all.
        self._paid_after: list[dict[uuid.UUID, float]] = [{}]
        # A clinic's own bots (its view): its new patients are enrolled on them.
        self.own: tuple[str, ...] = ()
        # The fleet key of the default bot: the channel's own (the limiter's and breakers').
        self.rate_key = default.rate_key

    @property
    def paid_after(self) -> dict[uuid.UUID, float]:
        """Clinic -> seconds late from which its reminders are sent as paid broadcasts."""
        return self._paid_after[0]

    def with_clinic_bot(self, bot: str, sender: Any) -> TelegramBots:
        """A clinic's view: the service's bots and the clinic's own bot ``bot`` (a provider
        account, ``scheduler.clinic_senders``), on which its new patients are enrolled. Chats
        that started a service bot keep it. The view shares every sender; close only this."""
        view = copy.copy(self)
        view.by_id = {**self.by_id, bot: sender}
        view._paid = dict(self._paid)
        view._clinic_paid = {}  # its own bot's sender is replaced when the clinic saves it again
        if isinstance(sender, TelegramSender):
            view._paid[bot] = PaidBroadcast(sender, self.paid_rate)
        view.own = (*self.own, bot)
        return view

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramBots:
        """``TELEGRAM_BOT_TOKEN`` and ``MEDREMIND_TELEGRAM_BOTS``, each its own connection pool."""
        token = settings.telegram_bot_token
        default = TelegramSender.from_settings(settings)
        others = [
            TelegramSender(
                extra,
                base_url=settings.telegram_api_base_url or DEFAULT_BASE_URL,
                connection_pool_size=settings.worker_concurrency,
            )
            for extra in settings.telegram_extra_tokens
            if token is None or extra != token.get_secret_value()
        ]
        return cls(default, others, rate=settings.telegram_rate_per_second)

    # -- the default bot's surface (webhook set-up, long polling, callers that know no bots) --

    @property
    def bot(self) -> Any:
        """The default bot's python-telegram-bot ``Bot``."""
        return self.default.bot

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Send through the default bot."""
        return await self.default.send(address, message)

    async def edit(self, address: str, message_id: str | int, message: OutboundMessage) -> Receipt:
        """Edit a message of the default bot."""
        return await self.default.edit(address, message_id, message)

    async def answer_callback(
        self, callback_query_id: str, text: str | None = None, *, show_alert: bool = False
    ) -> bool:
        """Answer a button press made in a chat with the default bot."""
        return await self.default.answer_callback(callback_query_id, text, show_alert=show_alert)

    # -- the bots -------------------------------------------------------------------------

    @property
    def ids(self) -> list[str]:
        """Every bot's id, the default first."""
        return list(self.by_id)

    def get(self, bot: str | None) -> Any:
        """The bot ``bot`` (None: the default), if this process has its token."""
        return self.default if bot is None else self.by_id.get(bot)

    def missing(self, bot: str | None) -> str | None:
        """Why a chat on bot ``bot`` (None: the default) cannot be written to, or None when this
        process has its token: routing passes such a chat over for the patient's next channel."""
        return None if self.get(bot) is not None else missing_bot_reason(str(bot))

    def for_bot(self, bot: str | None) -> Any:
        """The sender of bot ``bot`` (None: the default); a refusing one when it is unknown."""
        found = self.get(bot)
        if found is not None:
            return found
        assert bot is not None
        return self._unknown.setdefault(bot, UnknownBot(bot))

    def sender_for(self, claim: Any, route: Any, now: datetime) -> Any:
        """The sender of one send of the dispatcher: the chat's bot, paying where the clinic
        pays and the reminder is late enough.

        ``claim``: a :class:`scheduler.claims.Claim`; ``route``: its
        :class:`scheduler.routing.Route` on Telegram. A bot reply goes through the bot its
        person wrote to; a caregiver's alert through the default bot.
        """
        if claim.reply_address is not None:
            reply_bot = (claim.payload or {}).get(REPLY_BOT_KEY)
            return self.for_bot(reply_bot if isinstance(reply_bot, str) else None)
        contacts: Iterable[_ContactLike] = claim.contacts
        chat_bot = next(
            (c.bot for c in contacts if route.contact_id is not None and c.id == route.contact_id),
            None,
        )
        sender = self.for_bot(chat_bot)
        org = claim.organization_id
        after = self.paid_after.get(org) if org else None
        if (
            after is not None
            and isinstance(sender, TelegramSender)
            and not claim.urgent
            and self.charges.may_pay(org)
        ):
            # Late by the dose's own time: a row put back for the rate limit has a later
            # scheduled_time, but its patient has waited since the dose was due.
            late = (now - (claim.dose_due_at or claim.scheduled_time)).total_seconds()
            if late >= after:
                return self._paid_for(bot_id_of(sender), org)
        return sender

    def _paid_for(self, bot: str, organization_id: uuid.UUID) -> PaidBroadcast:
        """Bot ``bot``'s paid sends counted for the clinic (made once per pair)."""
        key = (bot, organization_id)
        found = self._clinic_paid.get(key)
        if found is None:
            found = self._clinic_paid[key] = self._paid[bot].for_clinic(
                organization_id, self.charges
            )
        return found

    def shard(self, key: uuid.UUID, weights: Mapping[str, float] | None = None) -> str:
        """The bot a new patient is enrolled on, in proportion to each bot's rate.

        Stable for ``key`` (the patient's id): a second invite for the same patient names the
        same bot. ``weights``: bot id -> rate (default: every bot at the channel's rate).
        """
        rates = weights or dict.fromkeys(self.own or self.by_id, self.rate)
        ids = [b for b in (self.own or self.by_id) if rates.get(b, 0.0) > 0]
        if not ids:
            return self.default_id
        total = sum(rates[b] for b in ids)
        point = int.from_bytes(hashlib.sha256(key.bytes).digest()[:8], "big") / 2**64 * total
        for bot in ids:
            point -= rates[bot]
            if point < 0:
                return bot
        return ids[-1]

    async def refresh(self, pool: asyncpg.Pool) -> None:
        """Reload which clinics pay for broadcasts, from how late, and their allowances this
        month (one small query); write the refunds still queued (:class:`PaidCharges`)."""
        from core.sql import query

        self.charges.pool = pool
        await self.charges.flush()
        rows = await pool.fetch(query("telegram_bots", "paid_broadcast_clinics"))
        self._paid_after[0] = {r["id"]: float(r["after"]) for r in rows}
        self.charges.load(rows)

    async def aclose(self) -> None:
        """Close every bot's connection pools; safe twice."""
        for sender in self.by_id.values():
            await sender.aclose()


def bot_id_of(sender: TelegramSender) -> str:
    """A sender's bot id (from its ``rate_key``, ``telegram:<bot id>``)."""
    return sender.rate_key.split(":", 1)[1]


__all__ = [
    "FREE_RATE",
    "PAID_RATE",
    "REPLY_BOT_KEY",
    "STARS_PER_PAID_MESSAGE",
    "PaidBroadcast",
    "PaidCharges",
    "TelegramBots",
    "UnknownBot",
    "bot_id",
    "bot_id_of",
    "missing_bot_reason",
    "webhook_path",
    "webhook_secret",
]
