"""The webhook's answer to what a person sends in a private chat that the bot does not read.

The bot reads a message's text, a shared contact and a location (platforms.telegram.parse_update).
Two other things a person sends were acknowledged and dropped without a word:

* an edited text (:func:`edited_answer`). An edit never reaches the conversation engine: its
  text was answered when first sent, and read as a new message it could answer a dose twice, or
  long after the reminder ("taken" typed last week, its typo fixed today). The person who fixed
  "tken" to "taken" is asked to send it again as a new message. Other edits are not answered: a
  live location's updates arrive as edits every few seconds, and a caption's edit is no answer.
* a photo, a voice message, a sticker, a file (:func:`media_answer`). A patient who answered a
  reminder with a voice note ("I took it") or a photo of the pills heard nothing, and could
  believe it counted; they are asked to type. Service messages (a pinned message, a timer
  changed) are no person's message and get no answer.

Both are answered in the webhook's response itself (Telegram's "reply with a method": no Bot API
call, nothing stored), in the sender's Telegram language.
"""

from __future__ import annotations

from typing import Any

from bot import texts

# What a person sends that the bot cannot read (Telegram's Message fields).
_UNREAD_CONTENT = frozenset(
    {"photo", "voice", "audio", "video", "video_note", "document", "sticker", "animation"}
    | {"dice", "poll", "story", "paid_media"}
)


def edited_answer(update: dict[str, Any], default_locale: str) -> dict[str, Any] | None:
    """The answer (a Bot API method) to an edited text in a private chat, or None."""
    message = update.get("edited_message")
    if type(message) is not dict or type(message.get("text")) is not str:
        return None
    answer = _private_answer(message, "edits_not_read", default_locale)
    if answer is not None and type(message.get("message_id")) is int:
        # Quoting the edited message shows which one is meant (sent anyway if it is gone).
        answer["reply_parameters"] = {
            "message_id": message["message_id"],
            "allow_sending_without_reply": True,
        }
    return answer


def media_answer(update: dict[str, Any], default_locale: str) -> dict[str, Any] | None:
    """The answer (a Bot API method) to a photo, voice message, sticker... in a private chat, or
    None."""
    message = update.get("message")
    if type(message) is not dict or not _UNREAD_CONTENT.intersection(message):
        return None
    return _private_answer(message, "text_only", default_locale)


def _private_answer(
    message: dict[str, Any], key: str, default_locale: str
) -> dict[str, Any] | None:
    """``sendMessage`` of text ``key`` to ``message``'s chat when it is a private one."""
    chat = message.get("chat")
    if type(chat) is not dict or chat.get("type") != "private" or type(chat.get("id")) is not int:
        return None
    sender = message.get("from")
    language = sender.get("language_code") if type(sender) is dict else None
    locale = texts.pick_locale(language if type(language) is str else None, default_locale)
    return {"method": "sendMessage", "chat_id": chat["id"], "text": texts.text(locale, key)}


__all__ = ["edited_answer", "media_answer"]
