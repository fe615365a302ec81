"""A caregiver on Telegram links their own chat: the patient forwards a deep link, they open it.

A chat id cannot be checked by typing it (Telegram delivers to any chat that started the bot), so
the patient is never asked for one: /settings > Caregiver > Telegram ends with a link,
``https://t.me/<bot>?start=cg_<token>``, and what the patient chose (name, time zone, delay) waits
in ``caregiver_links`` (migration 20260101014100). No caregivers row exists meanwhile, so no alert
is planned or sent. The caregiver's own ``/start cg_<token>`` makes the row with the chat id
Telegram gave that /start, tells them whose caregiver they are and how to stop (/stop, as every
caregiver's opt-out), and tells the patient. The token is 32 random bytes, stored hashed, single
use, 7 days; it is marked sensitive so no log line carries it. The clinic does not see the
patient's message holding the link until it is opened or its 7 days are over
(:mod:`core.link_messages`).

The link names the default bot: caregivers' alerts go through it
(``platforms.telegram_bots.TelegramBots.sender_for``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from babel.lists import format_list

from bot import keywords, texts
from bot.conversation import Turn
from core import sms_fit
from core.link_messages import CAREGIVER_MARKER, CAREGIVER_USED, scrub_spent_link
from core.logs import mark_sensitive
from core.sql import query
from platforms.base import Channel

logger = logging.getLogger(__name__)

# What tells a caregiver's /start argument from a patient invite's. An invite's random token may
# start with it too (1 in 262,144): link_caregiver hands such a one back to the invite path.
PREFIX = "cg_"
LIFETIME = timedelta(days=7)
# How long the patient's "linked" notice is worth sending.
_NOTICE_LIFETIME = timedelta(days=1)
# The longest caregiver name a link message repeats: with the link (a bot's @username is up to 32
# characters, so 98) it must fit three SMS segments in UCS-2 (201 units: Spanish, or an accent
# or emoji in the name), and a name may be up to 200; counted in UTF-16 units, an emoji two.
NAME_CHARS = 12


def short_name(name: str) -> str:
    """``name`` as a link message gives it: its first word, cut to :data:`NAME_CHARS` UTF-16
    units, when longer than that (an emoji is two units in a UCS-2 SMS, and is never cut in half:
    core.sms_fit)."""
    return sms_fit.short_name(name, NAME_CHARS)


def token_hash(token: str) -> str:
    """``caregiver_links.token_hash``: hex SHA-256 of the whole /start argument."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


async def bot_username(turn: Turn) -> str | None:
    """The default bot's @username (without ``@``), or None when Telegram is not set up or does
    not answer (then no link can be made)."""
    return await sender_username(turn.ctx.senders.get(Channel.TELEGRAM))


async def sender_username(sender: Any) -> str | None:
    """:func:`bot_username` of the Telegram sender (the default bot's), or None."""
    if sender is None:
        return None
    try:
        me = await sender.bot.get_me()
    except Exception as exc:  # Telegram unreachable: say so, keep the dialog alive
        logger.warning("telegram getMe failed", extra={"error_type": type(exc).__name__})
        return None
    return str(me.username) if me.username else None


async def offer_link(turn: Turn, username: str) -> None:
    """Keep the patient's choice for caregiver ``cg_name`` and give them the link to forward."""
    data = turn.conv.data
    assert turn.conv.patient_id is not None
    link = await new_link(
        turn.conn,
        username,
        turn.conv.patient_id,
        data["cg_name"],
        data["cg_delay"],
        data.get("cg_timezone"),
        turn.now,
        relink=False,
    )
    # One SMS too (three segments), so the link is never cut across two.
    name = short_name(data["cg_name"])
    turn.say(turn.t("caregiver_link", name=name, link=link, days=LIFETIME.days))


async def new_link(
    conn: Any,
    username: str,
    patient_id: UUID,
    name: str,
    alert_delay_minutes: int,
    timezone: str | None,
    now: datetime,
    *,
    relink: bool,
) -> str:
    """A fresh link making caregiver ``name`` (delay, zone) the patient's when opened, valid for
    :data:`LIFETIME`; the patient's other links not opened yet are withdrawn. ``relink``: for a
    caregiver typed in before links, whom alone it replaces (bot.sql relink_caregiver)."""
    token = PREFIX + secrets.token_urlsafe(32)
    link = f"https://t.me/{username}{CAREGIVER_MARKER}{token}"
    mark_sensitive(token, link)
    await conn.execute(
        query("bot", "insert_caregiver_link"),
        patient_id,
        token_hash(token),
        name,
        alert_delay_minutes,
        timezone,
        now,
        now + LIFETIME,
        relink,
    )
    return link


async def opens_a_link(turn: Turn) -> bool:
    """``/start cg_<token>`` from a chat that opted out: :func:`link_caregiver` all the same
    (a new consent); False for any other text, or a patient invite's token (the chat stays
    opted out)."""
    head, _, arg = turn.text.partition(" ")
    arg = arg.strip()
    if head.split("@", 1)[0].lower() != "/start" or not arg.startswith(PREFIX):
        return False
    return await link_caregiver(turn, arg)


async def link_caregiver(turn: Turn, token: str) -> bool:
    """``/start cg_<token>``: this chat becomes the caregiver the link was made for. False when
    the token is a patient invite's after all (random ones may start with the prefix too)."""
    mark_sensitive(token)
    hashed = token_hash(token[:200])
    link = None
    if turn.conv.channel is Channel.TELEGRAM:
        link = await turn.conn.fetchrow(query("bot", "lock_caregiver_link"), hashed, turn.now)
    if link is None:
        if await turn.conn.fetchval(query("bot", "invite_token_known"), hashed):
            return False
        turn.say(turn.t("caregiver_link_invalid"))
        return True
    patient_name = link["display_name"] or ""
    mark_sensitive(patient_name, link["name"])
    if turn.patient is not None and turn.patient["id"] == link["patient_id"]:
        # The patient opened their own link: it stays for the caregiver.
        turn.say(turn.t("caregiver_link_own", name=link["name"]))
        return True
    saved = await turn.conn.fetchrow(
        query("bot", "relink_caregiver" if link["relink"] else "upsert_caregiver"),
        link["patient_id"],
        link["name"],
        Channel.TELEGRAM.value,
        turn.conv.chat_address,
        link["alert_delay_minutes"],
        link["timezone"],
    )
    # Opening the link is the caregiver's consent, even from a chat that sent /stop before: the
    # new row is not opted out (its insert took the address's opt-out), and the chat hears from
    # the bot again. Other patients' caregiver rows of this chat stay as they are.
    await turn.conn.execute(query("bot", "caregiver_consents_again"), saved["id"])
    turn.conv.state.pop("opted_out", None)
    await turn.conn.execute(query("bot", "use_caregiver_link"), link["id"], turn.now, saved["id"])
    # Spent: the patient's message holding the link is the clinic's to read again.
    await scrub_spent_link(
        turn.conn, link["patient_id"], CAREGIVER_MARKER, token.strip(), CAREGIVER_USED
    )
    turn.say(turn.t("caregiver_linked", patient=patient_name or turn.t("caregiver_someone")))
    notice = texts.text(link["locale"], "caregiver_link_used", name=link["name"])
    await turn.conn.execute(
        query("bot", "insert_caregiver_linked_notice"),
        link["patient_id"],
        notice,
        turn.now,
        turn.now + _NOTICE_LIFETIME,
        f"caregiver-linked:{link['id']}",
    )
    return True


def agreed_text(proven: Sequence[asyncpg.Record], typed: str) -> str | None:
    """What a caregiver's first text from the number a patient gave did: it agreed to the alerts
    of the patients in ``proven`` (bot.sql prove_caregiver_address's rows). In the greeting's
    language ("Hola"), else the first patient's; ``None`` when it proved nothing. Without it the
    caregiver was told to send /start and set up reminders of their own."""
    if not proven:
        return None
    locale = keywords.greeting_language(typed) or proven[0]["locale"]
    locale = locale if locale in texts.LOCALES else texts.DEFAULT_LOCALE
    patients = [sms_fit.short_name(row["patient_name"]) for row in proven]
    return texts.text(
        locale,
        "caregiver_agreed",
        caregiver=sms_fit.short_name(proven[0]["caregiver_name"]),
        patient=format_list(patients, locale=locale),
    )
