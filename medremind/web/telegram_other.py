"""What becomes of a Telegram update that is no patient's message or press.

Shared by the webhook (``medremind.web.telegram_webhook``, which sends the answer as its
response: Telegram's "reply with a method") and ``medremind dev``'s long polling (which calls
the method itself), so both treat such updates alike: the person blocked or unblocked the bot
(the contact point follows: :mod:`medremind.web.telegram_members`); a command or a press in a
group (told to write privately: :mod:`medremind.web.telegram_chats`); an edited text (told to
send it again: :mod:`medremind.web.telegram_unread`); a photo, voice message or sticker (told to
type: :mod:`medremind.web.telegram_unread`); anything else, acknowledged and dropped.
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from medremind.web.telegram_chats import group_answer
from medremind.web.telegram_members import apply_change, membership_change
from medremind.web.telegram_unread import edited_answer, media_answer

# The inbound counter's outcome for such an update (medremind_inbound_updates_total).
Outcome = Literal["membership", "ignored"]


async def other_update(
    pool: asyncpg.Pool,
    update: dict[str, Any],
    *,
    bot: str | None,
    default_bot: str | None,
    username: str | None,
    default_locale: str,
) -> tuple[Outcome, dict[str, Any] | None]:
    """Handle ``update`` (no event); its outcome and the Bot API method that answers it, if any.

    ``bot``: the bot it came to (None: the default bot, whose id is ``default_bot`` when known);
    ``username``: that bot's, so a group's command to another bot is left alone. A database
    failure (applying a block) propagates: the update must come again.
    """
    change = membership_change(update)
    if change is not None:
        await apply_change(pool, change, bot, default_bot)
        return "membership", None
    answer = (
        group_answer(update, username, default_locale)
        or edited_answer(update, default_locale)
        or media_answer(update, default_locale)
    )
    return "ignored", answer


__all__ = ["Outcome", "other_update"]
