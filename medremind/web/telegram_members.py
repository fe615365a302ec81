"""Telegram's ``my_chat_member`` updates: a person blocked the bot, or unblocked it.

Without them a patient who blocked the bot was learnt of only at the next send's 403: the next
reminder failed first, and only then did the patient's next channel take over. Telegram tells
the bot at once (the update's new status ``kicked``; ``member`` once unblocked), so the chat's
contact point is marked blocked as that 403 would mark it, and the block lifted again, before
any send (``core/sql/telegram_members.sql``). Only a private chat is a person's: the bot added
to or removed from a group is no patient's business (medremind.web.telegram_chats).

The change is applied in the webhook's request, one statement, before the 200: a database
failure answers 500 and Telegram delivers the update again. Nothing is stored in
``inbound_messages``: nothing is processed later and no reply is sent (the person blocked the
bot). Updates that arrive out of order are ordered by Telegram's own ``date`` of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from core.sql import query

# The reason the clinic reads on the contact point, as the 403's (platforms.telegram's table).
BLOCKED_REASON = "telegram: Telegram: bot was blocked by the user (told by Telegram at once)"
# ChatMember statuses of the bot in a private chat: blocked, and unblocked (or started again).
_BLOCKED = "kicked"
_UNBLOCKED = "member"


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """A private chat's person blocked (``blocked``) or unblocked the bot, at ``at``."""

    chat_address: str
    blocked: bool
    at: datetime


def membership_change(update: dict[str, Any]) -> MembershipChange | None:
    """The change a ``my_chat_member`` update tells of, or None (another update, a group's,
    another status, or a field not of the type Telegram documents)."""
    member = update.get("my_chat_member")
    if type(member) is not dict:
        return None
    chat = member.get("chat")
    new = member.get("new_chat_member")
    date = member.get("date")
    if (
        type(chat) is not dict
        or chat.get("type") != "private"
        or type(chat.get("id")) is not int
        or type(new) is not dict
        or type(date) is not int
        or not 0 < date < 2**40
    ):
        return None
    status = new.get("status")
    if status not in (_BLOCKED, _UNBLOCKED):
        return None
    return MembershipChange(
        chat_address=str(chat["id"]),
        blocked=status == _BLOCKED,
        at=datetime.fromtimestamp(date, UTC),
    )


async def apply_change(
    pool: asyncpg.Pool, change: MembershipChange, bot: str | None, default_bot: str | None
) -> int:
    """Mark or unmark the chat's contact points of ``bot`` (None: the default bot, whose id is
    ``default_bot`` when known); how many changed."""
    status: str = await pool.execute(
        query("telegram_members", "membership_changed"),
        change.chat_address,
        bot,
        change.blocked,
        change.at,
        BLOCKED_REASON,
        default_bot,
    )
    return int(status.rsplit(" ", 1)[-1])


__all__ = ["BLOCKED_REASON", "MembershipChange", "apply_change", "membership_change"]
