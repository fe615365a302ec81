"""Which channel and address a claimed message goes to, and what to try next after a failure.

A bot reply goes only to the chat it answers, on the row's platform. A caregiver message goes only
to the caregiver's own channel. Otherwise: the message's platform first (for ``auto``, the channel
the patient chose for the message's category, if any), then, when fallback is allowed (always for
``auto``), the rest of the patient's ``channel_order``. Channels already tried, contact points that
are blocked, opted out or inactive, Telegram chats whose bot this process has no token for (a
clinic removed its own bot, or a service bot left ``MEDREMIND_TELEGRAM_BOTS``: nothing can write
to them) and channels with no sender in this process are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import NamedTuple
from uuid import UUID

from platforms.base import Channel
from platforms.telegram_bots import REPLY_BOT_KEY
from scheduler.claims import Claim


class Route(NamedTuple):
    """One place to send a message."""

    channel: Channel
    address: str
    contact_id: UUID | None  # None for a caregiver address


class RoutePlan(NamedTuple):
    """The routes to try in order; when empty, ``reason`` says why and ``config`` whether the
    cause is a channel (or a chat's bot) this process has no sender for (a configuration problem,
    not the patient). ``notes``: why a contact point of the patient was passed over (for the row).
    """

    routes: tuple[Route, ...]
    reason: str = ""
    config: bool = False
    notes: tuple[str, ...] = ()


_CHANNELS: dict[str, Channel] = {c.value: c for c in Channel}


def _channel(name: str) -> Channel | None:
    return _CHANNELS.get(name)


# Channels that a missing configuration leaves to the outbox folder where it is on.
_OUTBOX_CAPABLE = frozenset({"telegram", "sms", "whatsapp", "email"})


def unconfigured_reason(channels: Collection[str]) -> str:
    """Why a message cannot go out on ``channels`` (no sender in this process), for last_error."""
    reason = f"channel {', '.join(channels)} is not configured"
    if _OUTBOX_CAPABLE.intersection(channels):
        # The outbox never stands in for a provider outside `medremind dev` (platforms.registry).
        reason += (
            ": no provider credentials in this worker, and the outbox folder is off"
            " (MEDREMIND_OUTBOX_ENABLED); see `medremind check`"
        )
    return reason


def plan_routes(
    claim: Claim,
    tried: Collection[str],
    configured: Collection[Channel],
    missing_bot: Callable[[str | None], str | None] | None = None,
) -> RoutePlan:
    """Routes for ``claim`` not yet in ``tried``, in the order they should be attempted.

    ``missing_bot(bot)``: why this process cannot write through a Telegram chat's bot (None when
    it can); such a chat is passed over as a blocked one is, so the patient's next channel serves.
    """
    if claim.reply_address is not None:
        return _reply_route(claim, tried, configured)
    if claim.caregiver_id is not None:
        channel = _channel(claim.caregiver_channel or "")
        if channel is None or not claim.caregiver_active or not claim.caregiver_address:
            # Inactive, opted out (STOP), unreachable, or a typed Telegram chat not linked yet
            # (migration 20260101014300): dispatch.sql claim_columns folds them in.
            return RoutePlan(
                (), "the caregiver is inactive, opted out, unreachable or awaiting their link"
            )
        if channel in tried:
            return RoutePlan((), f"the caregiver's channel ({channel}) failed")
        if channel not in configured:
            return RoutePlan((), unconfigured_reason([str(channel)]), config=True)
        return RoutePlan((Route(channel, claim.caregiver_address, None),))

    explicit = claim.platform != "auto"
    # ``auto``: the channel the patient chose for this category of messages comes first.
    first = claim.platform if explicit else claim.category_channel
    order: list[str]
    if not first:
        # No channel of its own first: the patient's order as it is (nothing to leave out).
        order = list(claim.channel_order) if not explicit or claim.allow_fallback else []
    else:
        order = [first]
        if not explicit or claim.allow_fallback:
            order += [c for c in claim.channel_order if c != first]

    routes: list[Route] = []
    unconfigured: list[str] = []
    notes: list[str] = []
    for name in order:
        channel = _CHANNELS.get(name)
        if channel is None or name in tried:
            continue
        for contact in claim.contacts:
            if contact.channel != name or not contact.usable:
                continue
            gone = missing_bot(contact.bot) if missing_bot and name == "telegram" else None
            if gone is None:
                break
            notes.append(f"{name}: {gone}")
        else:
            continue
        if channel not in configured:
            unconfigured.append(name)
            continue
        routes.append(Route(channel, contact.address, contact.id))
    if routes:
        # Positional: a named tuple built with keywords costs twice as much (issue 20).
        return RoutePlan(tuple(routes), "", False, tuple(notes) if notes else ())
    if unconfigured:
        reason = "; ".join([unconfigured_reason(unconfigured), *notes])
        return RoutePlan((), reason, config=True, notes=tuple(notes))
    tried_text = f" (tried: {', '.join(tried)})" if tried else ""
    if explicit and not claim.allow_fallback:
        reason = f"no usable {claim.platform} contact point{tried_text}"
    else:
        reason = f"no usable contact point in the patient's channel order{tried_text}"
    # A chat passed over for its bot is this process's configuration, not the patient's doing.
    return RoutePlan((), "; ".join([reason, *notes]), config=bool(notes), notes=tuple(notes))


def _reply_route(
    claim: Claim, tried: Collection[str], configured: Collection[Channel]
) -> RoutePlan:
    """A bot reply: its chat on its platform, or nothing (a reply elsewhere would answer nothing).

    The chat's contact point, when the chat is a patient's usable one, gets a permanent error's
    effect. An opted-out or blocked chat still gets its reply, as the turn would have sent it (the
    answer to STOP, say); the provider refuses it if it must.
    """
    channel = _channel(claim.platform)
    if channel is None or claim.reply_address is None:
        return RoutePlan((), f"a reply cannot go on {claim.platform}")
    if channel in tried:
        return RoutePlan((), f"the chat's channel ({channel}) failed")
    if channel not in configured:
        return RoutePlan((), unconfigured_reason([str(channel)]), config=True)
    # A Telegram chat id is the person's with every bot: the contact point is the chat's only on
    # the bot the reply goes through (a refusal by another bot says nothing of the contact's).
    bot = (claim.payload or {}).get(REPLY_BOT_KEY) if channel is Channel.TELEGRAM else None
    contact = next(
        (
            c.id
            for c in claim.contacts
            if c.channel == channel
            and c.address == claim.reply_address
            and c.usable
            and (channel is not Channel.TELEGRAM or c.bot == bot)
        ),
        None,
    )
    return RoutePlan((Route(channel, claim.reply_address, contact),))
