"""The webhook's fast button parser gives exactly what ``platforms.telegram.parse_update`` gives,
and leaves every update it does not fully understand to it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from medremind.web.telegram_updates import parse_button_update
from platforms.telegram import parse_update
from tests.fakes.fake_telegram import callback_update, text_update

_DROP = object()


def _press(*changes: tuple[str, str, Any]) -> dict[str, Any]:
    """A button press with ``(part, key, value)`` changes; part is query, from, message or chat;
    ``_DROP`` removes the key."""
    update = callback_update(4242, "d:0123456789abcdef0123456789abcdef:t", message_id=77)
    query = update["callback_query"]
    parts = {
        "query": query,
        "from": query["from"],
        "message": query["message"],
        "chat": query["message"]["chat"],
    }
    for part, key, value in changes:
        if value is _DROP:
            parts[part].pop(key, None)
        else:
            parts[part][key] = value
    return update


UNDERSTOOD = {
    "plain": _press(),
    "last name": _press(("from", "last_name", "Silva")),
    "empty last name": _press(("from", "last_name", "")),
    "no language": _press(("from", "language_code", _DROP)),
    "empty first name": _press(("from", "first_name", "")),
    "unicode name": _press(("from", "first_name", "Zoë"), ("from", "last_name", "Ñúñez")),
    "no data": _press(("query", "data", _DROP)),
    "no message": _press(("query", "message", _DROP)),
    "inaccessible message": _press(("message", "date", 0)),
    "a game's inline message": _press(
        ("query", "message", _DROP), ("query", "inline_message_id", "AAA"), ("query", "data", _DROP)
    ),
}

LEFT_TO_PTB = {
    "text message": text_update(4242, "hello"),
    "string update id": {**_press(), "update_id": "12"},
    "bool update id": {**_press(), "update_id": True},
    "another field too": {**_press(), "message": text_update(4242, "x")["message"]},
    "integer query id": _press(("query", "id", 5)),
    "no chat instance": _press(("query", "chat_instance", _DROP)),
    "numeric data": _press(("query", "data", 12)),
    "no sender": _press(("query", "from", _DROP)),
    "no first name": _press(("from", "first_name", _DROP)),
    "string user id": _press(("from", "id", "4242")),
    "no is_bot": _press(("from", "is_bot", _DROP)),
    "message without chat": _press(("message", "chat", _DROP)),
    "message without date": _press(("message", "date", _DROP)),
    "message id as text": _press(("message", "message_id", "77")),
    "message not an object": _press(("query", "message", "hi")),
    # A group's press is none of a patient's: parse_update ignores it (test_telegram_group_chats).
    "group chat": _press(("chat", "id", -100123), ("chat", "type", "supergroup")),
}


@pytest.mark.parametrize("update", UNDERSTOOD.values(), ids=UNDERSTOOD.keys())
def test_understood_button_updates_parse_as_parse_update_does(update: dict[str, Any]) -> None:
    fast = parse_button_update(copy.deepcopy(update))
    assert fast is not None
    assert fast == parse_update(copy.deepcopy(update))


@pytest.mark.parametrize("update", LEFT_TO_PTB.values(), ids=LEFT_TO_PTB.keys())
def test_anything_else_is_left_to_parse_update(update: dict[str, Any]) -> None:
    assert parse_button_update(copy.deepcopy(update)) is None
