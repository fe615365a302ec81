"""The part of a Telegram update the bot reads, cut out before anything else reads it.

:func:`platforms.telegram.parse_update` builds python-telegram-bot's object tree of the whole
update, and the webhook stored the whole update too. Both read a handful of fields: the message's
text, contact or location, its chat and sender; a press's data, sender and the pressed message's
chat. A body padded to the webhook's limit with thousands of entities (or a long quoted
message, photos, unknown keys) cost ~0.5 s of CPU per update for nothing: :func:`essentials`
keeps the fields that are read, each user, chat, contact and location picked too, so the work
per update is bounded by those fields' own size. No python-telegram-bot import here: the
webhook's module loads this at start-up, the SDK only when an update needs it.
"""

from __future__ import annotations

from typing import Any

# What parse_update reads, field by field (an update padded to the body limit with 6,000 entities
# cost ~400 ms of CPU in Update.de_json alone, session 24).
_USER_FIELDS = ("id", "is_bot", "first_name", "last_name", "username", "language_code")
_CHAT_FIELDS = ("id", "type", "title", "username", "first_name", "last_name")
_CONTACT_FIELDS = ("phone_number", "first_name", "last_name", "user_id")
_LOCATION_FIELDS = ("latitude", "longitude")
_NESTED: dict[str, tuple[str, ...]] = {
    "from": _USER_FIELDS,
    "chat": _CHAT_FIELDS,
    "contact": _CONTACT_FIELDS,
    "location": _LOCATION_FIELDS,
}
_MESSAGE_FIELDS = ("message_id", "date", "chat", "from", "text", "contact", "location")
# A pressed button's message: which chat and which message (the rest is our own reminder).
_PRESSED_FIELDS = ("message_id", "date", "chat")
_QUERY_FIELDS = ("id", "from", "chat_instance", "data", "message")


def essentials(update: dict[str, Any]) -> dict[str, Any]:
    """The part of ``update`` that :func:`parse_update` reads (a message's or a press's), in a
    size bounded by the fields' own: entities, a quoted message, photos and unknown keys left
    out. Parsing it gives the same event as parsing the whole update; the webhook parses and
    stores this (nothing reads more of an update later)."""
    kept: dict[str, Any] = {}
    if "update_id" in update:
        kept["update_id"] = update["update_id"]
    query = update.get("callback_query")
    if isinstance(query, dict):
        kept["callback_query"] = _pick(query, _QUERY_FIELDS)
        pressed = kept["callback_query"].get("message")
        if isinstance(pressed, dict):
            kept["callback_query"]["message"] = _pick(pressed, _PRESSED_FIELDS)
    message = update.get("message")
    if isinstance(message, dict):
        kept["message"] = _pick(message, _MESSAGE_FIELDS)
    return kept


def _pick(value: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``value``'s ``fields`` that it has; a user, chat, contact or location in them picked too."""
    picked: dict[str, Any] = {}
    for name in fields:
        if name in value:
            field = value[name]
            nested = _NESTED.get(name)
            picked[name] = _pick(field, nested) if nested and isinstance(field, dict) else field
    return picked


__all__ = ["essentials"]
