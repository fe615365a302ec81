"""The webhook's answer to a photo, a voice message, a sticker and the like: type it instead.

The bot reads text, a shared contact and a location (platforms.telegram.parse_update); anything
else a person sends in a private chat used to be acknowledged and dropped without a word. A
patient who answered a reminder with a voice note ("I took it") or a photo of the pills heard
nothing, and could believe it counted. Now such a message is answered, in the webhook's response
itself (no Bot API call, nothing stored), with what the bot can read. Service messages (a pinned
message, a timer changed, write access allowed) are no person's message and get no answer.
"""

from __future__ import annotations

from typing import Any

from bot import texts

# What a person sends that the bot cannot read (Telegram's Message fields).
_UNREAD_CONTENT = frozenset(
    {"photo", "voice", "audio", "video", "video_note", "document", "sticker", "animation"}
    | {"dice", "poll", "story", "paid_media"}
)


def media_answer(update: dict[str, Any], default_locale: str) -> dict[str, Any] | None:
    """The webhook's answer (a Bot API method) to such a message in a private chat, or None."""
    message = update.get("message")
    if type(message) is not dict or not _UNREAD_CONTENT.intersection(message):
        return None
    chat = message.get("chat")
    if type(chat) is not dict or chat.get("type") != "private" or type(chat.get("id")) is not int:
        return None
    sender = message.get("from")
    language = sender.get("language_code") if type(sender) is dict else None
    locale = texts.pick_locale(language if type(language) is str else None, default_locale)
    return {"method": "sendMessage", "chat_id": chat["id"], "text": texts.text(locale, "text_only")}


__all__ = ["media_answer"]
