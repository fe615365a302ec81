"""The webhook's answer to an update from a chat that is not private (a group or a supergroup).

The bot is a patient's alone: ``platforms.telegram.parse_update`` ignores every update whose chat
is not private, so a group the bot was added to is never registered, and no member answers
another's dose. Silence would leave the person who typed ``/start`` there wondering, so a command
meant for this bot, and a button press (only on a message sent there before groups were refused),
is answered in the webhook's response itself ("reply with a method"): no Bot API call, nothing
stored. Other group messages (a group whose privacy mode is off sends them all) get no answer.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from bot import texts

# The chat types a person can type a command in; a channel's posts are not answered.
_GROUP_CHATS = frozenset(("group", "supergroup"))


def group_answer(
    update: dict[str, Any], bot_username: str | None, default_locale: str
) -> dict[str, Any] | None:
    """The webhook's answer (a Bot API method) to ``update`` from a group, or None.

    ``bot_username``: the bot's, so that a command addressed to another bot of the group
    (``/start@other_bot``) is left alone; None answers only commands addressed to no bot.
    """
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message")
        if not _in_group(message) or not isinstance(query.get("id"), str):
            return None
        return {
            "method": "answerCallbackQuery",
            "callback_query_id": query["id"],
            "text": _text(query.get("from"), default_locale),
            "show_alert": True,
        }
    message = update.get("message")
    if not _in_group(message) or not _for_this_bot(message.get("text"), bot_username):
        return None
    return {
        "method": "sendMessage",
        "chat_id": message["chat"]["id"],
        "text": _text(message.get("from"), default_locale),
    }


def _in_group(message: Any) -> TypeGuard[dict[str, Any]]:
    """Whether ``message`` is a message in a group (or a supergroup)."""
    chat = message.get("chat") if isinstance(message, dict) else None
    return (
        isinstance(chat, dict) and chat.get("type") in _GROUP_CHATS and type(chat.get("id")) is int
    )


def _for_this_bot(text: Any, bot_username: str | None) -> bool:
    """Whether ``text`` is a command to this bot: ``/cmd``, or ``/cmd@<its username>``."""
    if not isinstance(text, str) or not text.startswith("/"):
        return False
    command = text.split(maxsplit=1)[0]
    if "@" not in command:
        return True
    addressed = command.split("@", 1)[1]
    return bot_username is not None and addressed.casefold() == bot_username.casefold()


def _text(sender: Any, default_locale: str) -> str:
    language = sender.get("language_code") if isinstance(sender, dict) else None
    locale = texts.pick_locale(language if isinstance(language, str) else None, default_locale)
    return texts.text(locale, "private_chat_only")


__all__ = ["group_answer"]
