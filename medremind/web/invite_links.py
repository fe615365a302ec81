"""Invite links that name the bot a new patient is sharded to (platforms/telegram_bots.py).

With several Telegram bots, the bot a patient starts is the bot their reminders come from for
good (a chat cannot move). An invite link is where that is decided: a patient who already talks
to a bot gets that bot's link again (unless that bot is gone: then as a new one does); a new one
gets the bot :meth:`TelegramBots.shard` picks in proportion to each bot's spare capacity (what it
lacks of its rate's share of all chats). Bots' usernames come from ``getMe`` once per process.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg

from core.sql import query
from medremind.web.state import WebState
from platforms.base import Channel

logger = logging.getLogger(__name__)


async def invite_bot_username(
    state: WebState, conn: asyncpg.Connection, patient_id: uuid.UUID
) -> str | None:
    """The @username (without ``@``) of the bot the patient's invite link should open: a
    clinic with its own bot enrolls its new patients there."""
    bots: Any = (state.senders or {}).get(Channel.TELEGRAM)
    if state.clinic_senders is not None:
        # Another web process may have saved or removed the clinic's bot (one small query).
        await state.clinic_senders.refresh()
        organization = await conn.fetchval(query("telegram_bots", "patient_clinic"), patient_id)
        bots = state.clinic_senders.for_clinic(organization).get(Channel.TELEGRAM, bots)
    others = getattr(bots, "by_id", None)
    if not others or len(others) < 2:
        return state.bot_username
    known = await conn.fetchval(query("telegram_bots", "patient_telegram_bot"), patient_id)
    if known is None or bots.get(known or None) is None:
        # No Telegram chat yet, or its bot is gone (the clinic removed its own bot): the bot
        # with spare capacity, as for a new patient.
        chosen = bots.shard(patient_id, await spare_capacity(conn, bots))
    else:  # '' is the default bot
        chosen = known or bots.default_id
    if chosen == bots.default_id:
        return state.bot_username
    return await _username(state, bots, chosen) or state.bot_username


async def spare_capacity(conn: asyncpg.Connection, bots: Any) -> dict[str, float]:
    """Each candidate bot's share of new patients: what it lacks of its rate's share of all
    chats (counting this new one), so a bot added later fills up first, and bots in balance
    share in proportion to their rates."""
    candidates = list(bots.own or bots.ids)
    loads = {r["bot"] or bots.default_id: r["chats"] for r in await conn.fetch(_LOADS)}
    total = sum(loads.get(b, 0) for b in candidates) + 1
    rates = dict.fromkeys(candidates, float(bots.rate))
    rate_sum = sum(rates.values())
    return {b: max(0.0, total * rates[b] / rate_sum - loads.get(b, 0)) for b in candidates}


_LOADS = query("telegram_bots", "bot_loads")


async def _username(state: WebState, bots: Any, bot: str) -> str | None:
    sender = bots.get(bot)
    if sender is None:  # first: a removed bot's cached name must not be offered
        return None
    cached = state.telegram_usernames.get(bot)
    if cached is not None:
        return cached
    try:
        me = await sender.bot.get_me()
    except Exception as exc:  # Telegram unreachable: the default bot's link serves meanwhile
        problem = type(exc).__name__
        logger.warning("telegram getMe failed", extra={"bot": bot, "error_type": problem})
        return None
    state.telegram_usernames[bot] = me.username
    return str(me.username)


__all__ = ["invite_bot_username"]
