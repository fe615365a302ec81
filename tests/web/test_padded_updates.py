"""An update padded with what the bot never reads costs no more than the update itself.

Before: a message carrying thousands of entities (any holder of the webhook secret, up to the
256 KB body limit) was parsed whole into python-telegram-bot's objects, walked with a path string
per node and stored whole: ~100 ms of the web process's CPU per update (``bench/webhook.py
--entities 5500``; a plain text ~2 ms), and a quarter megabyte of jsonb in ``inbound_messages``.
Now only the fields the bot reads are parsed and stored (platforms/telegram_essentials.py) and
the depth is checked from the bytes: ~14 ms, mostly the JSON decoding itself. The event is the
one the whole update gives, for every kind of update (a table), and through the web app's
webhook the padded message is answered as the plain one is.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from medremind.web import json_input
from platforms.telegram import parse_update
from platforms.telegram_essentials import essentials
from tests import factories
from tests.fakes.fake_telegram import (
    FakeTelegram,
    callback_update,
    contact_update,
    location_update,
    text_update,
)
from tests.web.chat import TELEGRAM_SECRET

CHAT = 555000991


def _padded(update: dict[str, Any], entities: int = 5500) -> dict[str, Any]:
    """``update`` with ``entities`` bold entities and a quoted message on its message."""
    message = update.get("message") or update["callback_query"]["message"]
    message["entities"] = [{"type": "bold", "offset": 0, "length": 1} for _ in range(entities)]
    message["reply_to_message"] = text_update(CHAT, "an older message")["message"]
    message["from" if "from" in message else "chat"]["photo"] = {"small_file_id": "x" * 500}
    return update


def _with(update: dict[str, Any], **fields: Any) -> dict[str, Any]:
    update["message"].update(fields)
    return update


def _inaccessible_press() -> dict[str, Any]:
    update = callback_update(CHAT, "t:abc")
    update["callback_query"]["message"]["date"] = 0  # Telegram's InaccessibleMessage
    return update


def _photo_with_caption() -> dict[str, Any]:
    update = text_update(CHAT, "x")
    del update["message"]["text"]
    update["message"]["caption"] = "taken"
    update["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    return update


UPDATES = {
    "text": text_update(CHAT, "taken"),
    "command": text_update(CHAT, "/help"),
    "own contact": contact_update(CHAT, "+14155550100"),
    "another's contact": contact_update(CHAT, "+14155550100", own=False),
    "location": location_update(CHAT, 40.4, -3.7),
    "press": callback_update(CHAT, "d:0123456789abcdef0123456789abcdef:t"),
    "press on an inaccessible message": _inaccessible_press(),
    "sticker": _with(
        text_update(CHAT, "x"),
        sticker={
            "file_id": "f",
            "file_unique_id": "u",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        },
    ),
    "photo with a caption": _photo_with_caption(),
    "group": _with(text_update(CHAT, "/start"), chat={"id": -100, "type": "group", "title": "F"}),
    "padded text": _padded(text_update(CHAT, "/help")),
    "padded press": _padded(callback_update(CHAT, "d:0123456789abcdef0123456789abcdef:k")),
}


@pytest.mark.parametrize("update", UPDATES.values(), ids=UPDATES.keys())
def test_the_essentials_give_the_whole_updates_event(update: dict[str, Any]) -> None:
    assert parse_update(essentials(update)) == parse_update(update)


def test_the_essentials_of_a_padded_update_are_small() -> None:
    padded = _padded(text_update(CHAT, "/help"))
    body = json.dumps(padded).encode()
    assert 200_000 < len(body) < 256_000
    assert len(json.dumps(essentials(json_input.decode(body)))) < 500


async def test_a_padded_message_is_answered_and_stored_without_its_padding(
    web: httpx.AsyncClient, fake_telegram: FakeTelegram, admin_conn: asyncpg.Connection
) -> None:
    # A patient's chat: its updates are kept once processed (a stranger's are forgotten).
    await factories.create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    padded = _padded(text_update(CHAT, "/help"))
    response = await web.post("/telegram/webhook", json=padded, headers=TELEGRAM_SECRET)
    assert response.status_code == 200
    [reply] = fake_telegram.sent_messages
    assert reply.chat_id == CHAT and "/add" in (reply.text or "")
    stored = await admin_conn.fetchval("select octet_length(payload::text) from inbound_messages")
    assert stored < 2_000
