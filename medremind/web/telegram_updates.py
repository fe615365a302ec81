"""A button press read straight from the webhook's JSON, the one update type on the hot path.

``platforms.telegram.parse_update`` builds python-telegram-bot's whole object tree (``Update``,
``CallbackQuery``, the reminder ``Message`` with its keyboard, ``User``, ``Chat``) to read six
fields: measured at about a tenth of the web process's CPU per button answer. For a well-formed
``callback_query`` update :func:`parse_button_update` reads those fields from the dict and
returns the same :class:`InboundEvent` (``tests/web/test_telegram_updates.py`` compares the two
over a table of updates). Anything else, or any field not of the type Telegram documents, returns
``None`` and the caller uses ``parse_update``, so unusual updates behave exactly as before.
"""

from __future__ import annotations

from typing import Any

from platforms.base import Channel, InboundEvent, InboundKind


def parse_button_update(update: dict[str, Any]) -> InboundEvent | None:
    """The event of a well-formed button-press update; None when ``parse_update`` must decide."""
    query = update.get("callback_query")
    update_id = update.get("update_id")
    if type(query) is not dict or type(update_id) is not int or len(update) != 2:
        return None
    user = query.get("from")
    query_id = query.get("id")
    data = query.get("data")
    if (
        type(user) is not dict
        or type(query_id) is not str
        or type(query.get("chat_instance")) is not str
        or (data is not None and type(data) is not str)
    ):
        return None
    user_id = user.get("id")
    first_name = user.get("first_name")
    last_name = user.get("last_name")
    language_code = user.get("language_code")
    if (
        type(user_id) is not int
        or type(first_name) is not str
        or type(user.get("is_bot")) is not bool
        or (last_name is not None and type(last_name) is not str)
        or (language_code is not None and type(language_code) is not str)
    ):
        return None
    message = query.get("message")
    if message is None:
        chat_id, message_id = user_id, None
    else:
        chat = message.get("chat") if type(message) is dict else None
        if (
            type(chat) is not dict
            or type(chat.get("id")) is not int
            # Any other chat (a group's) is PTB's to parse and to refuse (platforms.telegram).
            or chat.get("type") != "private"
            or type(message.get("message_id")) is not int
            or type(message.get("date")) is not int
        ):
            return None
        chat_id, message_id = chat["id"], str(message["message_id"])
    return InboundEvent(
        channel=Channel.TELEGRAM,
        provider_id=str(update_id),
        chat_address=str(chat_id),
        kind=InboundKind.BUTTON,
        button_data=data,
        display_name=_full_name(first_name, last_name),
        language_code=language_code,
        reply_to_message_id=message_id,
        callback_query_id=query_id,
    )


def _full_name(first_name: str, last_name: str | None) -> str | None:
    """python-telegram-bot's ``User.full_name``."""
    if not first_name:
        return None
    return f"{first_name} {last_name}" if last_name else first_name
