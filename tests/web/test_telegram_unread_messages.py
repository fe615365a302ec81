"""A photo, a voice message or a sticker is answered with what the bot reads, not silence.

Before: anything but text, a shared contact or a location in a private chat was acknowledged
and dropped without a word: a patient who answered a reminder with a voice note ("I took it")
or a photo of the pills heard nothing, and the dose stayed open. Now the webhook's response
asks them to type (medremind/web/telegram_unread.py); nothing is stored or recorded, and a
service message (a pinned message) or a group's photo still gets no answer. Through the web
app's webhook.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.fakes.fake_telegram import FakeTelegram, text_update
from tests.web.chat import TELEGRAM_SECRET

CHAT = 555000993
TEXT_ONLY = {
    "en": "I can only read text. Please type your message, or use the buttons under a reminder.",
    "es": "Solo puedo leer texto. Escribe tu mensaje, o usa los botones de un recordatorio.",
}
FILE = {"file_id": "f", "file_unique_id": "u"}


def _message(language: str = "en", **content: Any) -> dict[str, Any]:
    update = text_update(CHAT, "x", language_code=language)
    del update["message"]["text"]
    update["message"].update(content)
    return update


SENT = {
    "voice": {"voice": FILE | {"duration": 3}},
    "photo with a caption": {
        "photo": [FILE | {"width": 90, "height": 90}],
        "caption": "taken",
    },
    "sticker": {
        "sticker": FILE
        | {"width": 1, "height": 1, "is_animated": False, "is_video": False, "type": "regular"}
    },
    "document": {"document": FILE},
}


@pytest.mark.parametrize("content", SENT.values(), ids=SENT.keys())
@pytest.mark.parametrize("language", ["en", "es"])
async def test_what_the_bot_cannot_read_is_answered(
    web: httpx.AsyncClient,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
    content: dict[str, Any],
    language: str,
) -> None:
    update = _message(language, **content)
    response = await web.post("/telegram/webhook", json=update, headers=TELEGRAM_SECRET)
    assert response.json() == {
        "method": "sendMessage",
        "chat_id": CHAT,
        "text": TEXT_ONLY[language],
    }
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0


async def test_service_messages_and_groups_are_not_answered(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection
) -> None:
    pinned = _message(pinned_message=text_update(CHAT, "old")["message"])
    group = _message(voice=FILE | {"duration": 3})
    group["message"]["chat"] = {"id": -1001, "type": "supergroup", "title": "Family"}
    for update in (pinned, group):
        response = await web.post("/telegram/webhook", json=update, headers=TELEGRAM_SECRET)
        assert response.json() == {"ok": True}
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0
