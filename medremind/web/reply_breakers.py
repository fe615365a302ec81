"""The web process's own sends (a turn's replies, a button's acknowledgement) behind the fleet's
circuit breakers.

A revoked bot token (BotFather's /revoke: 401 to every call) held the workers' messages, but each
reply the web process sent to a patient's message went to the Bot API on the refused token again,
was logged as "reply not sent at once" and spent an attempt before the dispatcher held it. Now
the web process's senders are wrapped (:meth:`ReplyBreakers.wrap`) by a
:class:`~scheduler.breaker.Breakers` shared with the fleet (:mod:`scheduler.fleet_breakers`):

* a refusal of the account's credentials opens the account's breaker (one WARNING line, naming
  the channel and the account's label, never a token, chat or text) and is written to
  ``provider_breakers``, so the workers hold the account's messages without trying it first;
* while the breaker is open (opened here, or by a worker for an outage or a refusal), a reply is
  not sent: :class:`~scheduler.breaker.BreakerHeldError` hands it and those after it to the
  dispatcher unsent (``bot.delivery``: pending, attempts unspent, ``last_error`` saying why, on
  the dashboard and the API), which sends them once its probe finds the account working, in
  order. A button press's acknowledgement is skipped (the spinner stops by itself);
* the web process never probes: the workers do, one probe per cooldown for the whole fleet, and
  their probe's success closes the breaker here at the next read.

The table is read at most once a second, when a send asks (:meth:`FleetBreakers.fresh`); each
send reads the breakers in memory.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from core.settings import Settings
from platforms.base import CredentialsRefusedError, Receipt
from scheduler.breaker import (
    DEFAULT_MAX_COOLDOWN_SECONDS,
    BreakerHeldError,
    Breakers,
    held_reason,
)
from scheduler.fleet_breakers import FleetBreakers


class ReplyBreakers:
    """One web process's breakers, shared with the fleet over ``pool``."""

    def __init__(self, pool: Any, settings: Settings) -> None:
        self.pool = pool
        cooldown = settings.breaker_cooldown_seconds
        self.breakers = Breakers(
            settings.breaker_threshold, cooldown, max(DEFAULT_MAX_COOLDOWN_SECONDS, cooldown)
        )
        name = f"web:{socket.gethostname()}:{os.getpid()}"
        self.fleet = FleetBreakers(self.breakers, name, probes=False)
        self._wrapped: dict[int, GuardedSender] = {}

    def wrap(self, channel: str, sender: Any) -> Any:
        """``sender`` (of ``channel``) behind the breakers; None stays None."""
        if sender is None or isinstance(sender, GuardedSender):
            return sender
        guarded = self._wrapped.get(id(sender))
        if guarded is None or guarded.wrapped is not sender:
            guarded = self._wrapped[id(sender)] = GuardedSender(self, str(channel), sender)
        return guarded

    async def check(self, channel: str, account: str) -> None:
        """Raise :class:`BreakerHeldError` when ``account``'s breaker holds its sends."""
        await self.fleet.fresh(self.pool)
        if self.breakers.wait(account) > 0.0:
            raise BreakerHeldError(held_reason(channel, self.breakers.refusal(account)))

    def held(self, account: str) -> bool:
        """Whether ``account``'s breaker is open here (no table read, no probe)."""
        return self.breakers.is_open(account)


class GuardedSender:
    """A channel sender whose sends :class:`ReplyBreakers` may hold; every other attribute is
    the sender's own (its bots, its rate key, its rendering)."""

    def __init__(self, guard: ReplyBreakers, channel: str, inner: Any) -> None:
        self._guard = guard
        self._channel = channel
        self._inner = inner
        # The key the dispatcher's breakers use for this account (scheduler.delivery).
        self._account = getattr(inner, "rate_key", None) or channel
        # Only what the sender can do: bot.delivery asks whether it can edit or acknowledge.
        if hasattr(inner, "edit"):
            self.edit = self._edit
        if hasattr(inner, "answer_callback"):
            self.answer_callback = self._answer_callback

    @property
    def wrapped(self) -> Any:
        """The sender itself."""
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def send(self, address: str, message: Any) -> Receipt:
        """Send, unless the account's breaker holds it (:class:`BreakerHeldError`)."""
        await self._guard.check(self._channel, self._account)
        try:
            receipt: Receipt = await self._inner.send(address, message)
        except CredentialsRefusedError as exc:
            raise await self._refused(exc) from exc
        return receipt

    async def _edit(self, address: str, message_id: str, message: Any) -> Receipt:
        await self._guard.check(self._channel, self._account)
        try:
            receipt: Receipt = await self._inner.edit(address, message_id, message)
        except CredentialsRefusedError as exc:
            raise await self._refused(exc) from exc
        return receipt

    async def _answer_callback(self, callback_query_id: str) -> None:
        if self._guard.held(self._account):
            return  # no call on a refused token: Telegram stops the spinner by itself
        try:
            await self._inner.answer_callback(callback_query_id)
        except CredentialsRefusedError as exc:
            raise await self._refused(exc) from exc

    async def _refused(self, exc: CredentialsRefusedError) -> BreakerHeldError:
        """The provider refused the account: open its breaker (logged once), for the fleet at
        once (the workers then hold the account's messages without trying it first)."""
        from scheduler.delivery_results import error_text

        reason = error_text(exc)
        self._guard.breakers.refused(self._account, self._channel, reason)
        await self._guard.fleet.fresh(self._guard.pool, now=True)
        return BreakerHeldError(held_reason(self._channel, reason))


__all__ = ["GuardedSender", "ReplyBreakers"]
