"""An authenticated Telegram update whose fields have the wrong JSON types is acknowledged and
dropped, never a 500 and never stored.

python-telegram-bot builds an ``Update`` from whatever JSON it is given without checking types, so
a button's ``data`` of 5 reached ``snooze_refused``'s regular expression and the webhook answered
500 (Telegram redelivers anything but a 200 for a day, the bot's other updates queued behind it);
a ``text`` of ``["a"]`` was stored as a patient's message, a chat id of "abc" became a chat, and a
callback id of ``["q"]`` was echoed back to Telegram as an ``answerCallbackQuery``. Only the
secret's holder can send these, but the webhook's answer to a body it cannot use is a 200 that
drops it (test_webhook_security: malformed bodies).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.fake_telegram import callback_update, text_update
from tests.web.conftest import WEBHOOK_SECRET, count

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
CHAT = 5550001


def _press(**query: Any) -> dict[str, Any]:
    update = callback_update(CHAT, "x")
    update["callback_query"].update(query)
    return update


def _text(**message: Any) -> dict[str, Any]:
    update = text_update(CHAT, "hello")
    update["message"].update(message)
    return update


def _sender(**user: Any) -> dict[str, Any]:
    update = text_update(CHAT, "hello")
    update["message"]["from"].update(user)
    return update


WRONG_TYPES = {
    "button data a number": _press(data=5),
    "button data a list": _press(data=["dose", "taken"]),
    "button data an object": _press(data={"dose": 1}),
    "callback id a list": _press(id=["q"]),
    "text a list": _text(text=["a"]),
    "text an object": _text(text={"a": 1}),
    "text a number": _text(text=7),
    "chat id a word": _text(chat={"id": "abc", "type": "private"}),
    "chat id a fraction": _text(chat={"id": 1.5, "type": "private"}),
    "chat id in Arabic digits": _text(chat={"id": "\u0663\u0663", "type": "private"}),
    "first name a number": _sender(first_name=12),
    "language a list": _sender(language_code=["es"]),
    "location a word": _text(text=None, location={"latitude": "north", "longitude": 2.0}),
}


@pytest.mark.parametrize("update", list(WRONG_TYPES.values()), ids=list(WRONG_TYPES))
async def test_an_update_with_fields_of_the_wrong_type_is_acknowledged_and_dropped(
    client, admin_conn, update: dict[str, Any]
) -> None:
    response = await client.post("/telegram/webhook", json=update, headers=SECRET)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}
    assert await count(admin_conn, "inbound_messages") == 0
    assert await count(admin_conn, "conversations") == 0
    # The same chat's well-formed message right after is read.
    response = await client.post("/telegram/webhook", json=text_update(CHAT, "hi"), headers=SECRET)
    assert response.status_code == 200
    assert await count(admin_conn, "inbound_messages") == 1
