"""Patients whose Telegram caregiver was typed in get a fresh link to forward (the worker's job).

Before caregiver links, the bot took a typed Telegram chat id for a caregiver; nothing shows
whether it was right, so migration 20260101014300 marked those caregivers (awaiting_link_since)
and stopped their alerts. This pass sends each such patient one message, in their language and
on their channel order (not urgent: their quiet hours hold it), with a new link made as
/settings makes it (:func:`bot.dialogs.caregiver_links.new_link`), so the caregiver's own chat
opening it brings the alerts back. A link that expires unopened (7 days) is followed by one
more, saying so and that it is the last (migration 20260101014400, ``link_offers``); after that
the patient names the caregiver anew in /settings if they want. It needs the default bot's
@username: without Telegram, or when Telegram does not answer, it does nothing and the next
pass tries again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from bot import texts
from bot.dialogs import caregiver_links
from core.logs import mark_sensitive
from core.sql import query

# Caregivers handled per pass (one transaction); the next pass takes the rest.
BATCH = 200


def relink_text(locale: str, name: str, link: str, *, again: bool = False) -> str:
    """The patient's message: the caregiver's name (its first word when long), the link; three
    SMS segments at most (caregiver_links.short_name). ``again``: the second and last, the first
    having expired unopened."""
    return texts.text(
        locale,
        "caregiver_relink_again" if again else "caregiver_relink",
        name=caregiver_links.short_name(name),
        link=link,
        days=caregiver_links.LIFETIME.days,
    )


async def offer_relinks(pool: asyncpg.Pool, telegram: Any, now: datetime) -> int:
    """One pass: a link for each marked caregiver's patient not sent one yet, or sent one that
    expired unopened (a second and last); how many were.

    Telegram is asked for the bot's name only when there is one to send: a caregiver left
    waiting (opted out, a patient who cannot be messaged) costs a look-up a pass, no getMe."""
    async with pool.acquire() as conn, conn.transaction():
        expired = now - caregiver_links.LIFETIME  # a link sent then or before is dead
        rows = await conn.fetch(query("bot", "caregivers_awaiting_a_link"), now, BATCH, expired)
        if not rows:
            return 0
        # The rows stay locked meanwhile (other workers skip them): one getMe, bounded by its
        # timeout, and none at all on the passes with nothing to send.
        username = await caregiver_links.sender_username(telegram)
        if username is None:
            return 0
        for row in rows:
            mark_sensitive(row["name"])
            link = await caregiver_links.new_link(
                conn,
                username,
                row["patient_id"],
                row["name"],
                row["alert_delay_minutes"],
                row["timezone"],
                now,
                relink=True,
            )
            again = row["link_offers"] > 0
            text = relink_text(row["locale"], row["name"], link, again=again)
            # The first offer's key as before 20260101014400; the second its own.
            key = f"caregiver-relink:{row['id']}" + (":2" if again else "")
            await conn.execute(
                query("bot", "insert_caregiver_relink_notice"),
                row["id"],
                row["patient_id"],
                text,
                now,
                now + caregiver_links.LIFETIME,
                key,
            )
    return len(rows)
