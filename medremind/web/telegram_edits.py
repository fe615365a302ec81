"""The webhook's answer to an edited text message: the bot reads new messages only.

An edit never reaches the conversation engine: its text was answered when it was first sent,
and an edit read as a new message could answer a dose twice, or answer it long after the
reminder ("taken" typed last week, its typo fixed today). Silence would leave the person who
fixed "tken" to "taken" believing it counted, so a private chat's edited text is answered, in
the webhook's response itself (no Bot API call, nothing stored), with a request to send it
again as a new message. Other edits are not answered: a live location's updates arrive as
edited messages every few seconds, and a caption's edit is no answer either.
"""

from __future__ import annotations

from typing import Any

from bot import texts


def edited_answer(update: dict[str, Any], default_locale: str) -> dict[str, Any] | None:
    """The webhook's answer (a Bot API method) to an edited text in a private chat, or None."""
    message = update.get("edited_message")
    if type(message) is not dict or type(message.get("text")) is not str:
        return None
    chat = message.get("chat")
    if type(chat) is not dict or chat.get("type") != "private" or type(chat.get("id")) is not int:
        return None
    sender = message.get("from")
    language = sender.get("language_code") if type(sender) is dict else None
    locale = texts.pick_locale(language if type(language) is str else None, default_locale)
    answer: dict[str, Any] = {
        "method": "sendMessage",
        "chat_id": chat["id"],
        "text": texts.text(locale, "edits_not_read"),
    }
    if type(message.get("message_id")) is int:
        # Quoting the edited message shows which one is meant (sent anyway if it is gone).
        answer["reply_parameters"] = {
            "message_id": message["message_id"],
            "allow_sending_without_reply": True,
        }
    return answer


__all__ = ["edited_answer"]
