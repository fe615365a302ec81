"""The bot talks to a patient in a private chat only: a group (or supergroup) it was added to is
no patient's chat.

Before: ``/start`` typed in a group registered the group as a patient: every member then saw
the privacy question, the medicines and every reminder, and any member's press answered the
doses. Now an update from a chat that is not private is acknowledged and stored nowhere; a
command there (and a button press, which can only be on a message sent before) is answered, in
the webhook's response, with how to reach the bot privately. Over the web app's webhook with the
loopback Bot API.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from bot import texts
from core.answer_buttons import dose_data
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram, callback_update, text_update
from tests.web.chat import START, TELEGRAM_SECRET

GROUP = -1001234567
MEMBER = 555_000_777
PRIVATE_ONLY = "I only work in a private chat"


def _in_group(update: dict[str, Any], chat_type: str = "supergroup") -> dict[str, Any]:
    """``update`` as it comes from a group chat: the chat is the group, the sender a member."""
    update = copy.deepcopy(update)
    query = update.get("callback_query")
    message = query["message"] if query else update["message"]
    message["chat"] = {"id": GROUP, "type": chat_type, "title": "Family"}
    (query or message)["from"]["id"] = MEMBER
    return update


async def _post(web: httpx.AsyncClient, update: dict[str, Any]) -> dict[str, Any]:
    response = await web.post("/telegram/webhook", json=update, headers=TELEGRAM_SECRET)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _nothing_stored(conn: asyncpg.Connection) -> None:
    for table in ("conversations", "inbound_messages", "scheduled_messages"):
        assert await conn.fetchval(f"select count(*) from {table}") == 0, table


async def test_start_in_a_group_registers_nothing_and_says_where_to_write(
    web: httpx.AsyncClient, fake_telegram: FakeTelegram, admin_conn: asyncpg.Connection
) -> None:
    for chat_type in ("group", "supergroup"):
        answer = await _post(web, _in_group(text_update(MEMBER, "/start"), chat_type))
        assert answer["method"] == "sendMessage"
        assert answer["chat_id"] == GROUP
        assert PRIVATE_ONLY in answer["text"]
    answer = await _post(web, _in_group(text_update(MEMBER, "/start@medremind_test_bot")))
    assert PRIVATE_ONLY in answer["text"]
    spanish = _in_group(text_update(MEMBER, "/add", language_code="es-ES"))
    assert "Solo funciono en un chat privado" in (await _post(web, spanish))["text"]
    # What is no command to this bot (a group whose privacy mode is off sends every message)
    # is not answered at all.
    assert await _post(web, _in_group(text_update(MEMBER, "taken"))) == {"ok": True}
    assert await _post(web, _in_group(text_update(MEMBER, "/start@other_bot"))) == {"ok": True}
    await _nothing_stored(admin_conn)
    assert fake_telegram.calls == []


async def test_a_press_in_a_group_answers_no_dose(
    web: httpx.AsyncClient, fake_telegram: FakeTelegram, admin_conn: asyncpg.Connection
) -> None:
    # A group registered before groups were refused, with a dose waiting.
    patient = await factories.create_patient(admin_conn, contacts={"telegram": str(GROUP)})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await factories.create_dose_event(admin_conn, schedule, START - timedelta(minutes=5))
    press = _in_group(callback_update(MEMBER, dose_data(dose["id"], "t")))
    answer = await _post(web, press)
    assert answer["method"] == "answerCallbackQuery"
    assert answer["callback_query_id"] == press["callback_query"]["id"]
    assert answer["show_alert"] is True
    assert PRIVATE_ONLY in answer["text"]
    # Telegram shows at most 200 characters of a callback query's answer, in every language.
    assert all(len(texts.text(locale, "private_chat_only")) <= 200 for locale in texts.LOCALES)
    status = await admin_conn.fetchval("select status from dose_events where id = $1", dose["id"])
    assert status == dose["status"]
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0
    assert fake_telegram.calls == []


async def test_a_channel_post_and_a_private_chat_are_as_before(
    web: httpx.AsyncClient, fake_telegram: FakeTelegram, admin_conn: asyncpg.Connection
) -> None:
    post = text_update(MEMBER, "/start")["message"]
    post["chat"] = {"id": GROUP, "type": "channel", "title": "News"}
    del post["from"]
    assert await _post(web, {"update_id": 91, "channel_post": post}) == {"ok": True}
    await _nothing_stored(admin_conn)
    assert await _post(web, text_update(MEMBER, "/start")) == {"ok": True}
    [sent] = fake_telegram.sent_messages
    assert sent.chat_id == MEMBER and "Privacy" in (sent.text or "")
