"""``medremind dev``'s long polling treats what is no patient's message as the webhook does.

Before: the polling loop dropped every update it could not turn into an event, silently. A
person who typed /start in a group got nothing (the webhook tells them to write privately), a
press in a group spun until Telegram gave up, and polling asked for no ``my_chat_member``: a
patient who blocked the bot was known only at the next 403. Now the same code answers them
(medremind.web.telegram_other): the Bot API method the webhook would put in its response is
called. Over a real ``medremind dev`` process and the loopback Bot API.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot import texts
from core.answer_buttons import dose_data
from tests import factories
from tests.acceptance.test_dev import _read_until, _start_dev, _stop
from tests.fakes.fake_telegram import (
    FakeTelegram,
    TelegramCall,
    callback_update,
    edited_update,
    member_update,
    text_update,
)
from tests.ports import free_port

TOKEN = "111222:DEV-default-token-abcdefghijkl"
PATIENT_CHAT = 555000971
GROUP = -1001234567
MEMBER = 555_000_777
PRIVATE_ONLY = texts.text("en", "private_chat_only")
EDITS_NOT_READ = texts.text("en", "edits_not_read")


def _in_group(update: dict[str, Any]) -> dict[str, Any]:
    """``update`` as it comes from a group chat."""
    message = (
        update["callback_query"]["message"] if "callback_query" in update else update["message"]
    )
    message["chat"] = {"id": GROUP, "type": "supergroup", "title": "Family"}
    return update


def _calls(tg: FakeTelegram, method: str, count: int) -> list[TelegramCall]:
    deadline = time.monotonic() + 60  # a hang guard for a loaded machine
    while time.monotonic() < deadline:
        calls = tg.calls_to(method)
        if len(calls) >= count:
            return calls
        time.sleep(0.2)
    raise AssertionError(f"{count} {method} calls expected, got {tg.calls_to(method)}")


@pytest.mark.slow
async def test_dev_polling_answers_groups_edits_and_learns_blocks(
    database_url: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await factories.create_patient(conn, contacts={"telegram": str(PATIENT_CHAT)})
        with FakeTelegram(token=None) as tg:
            proc = _start_dev(
                database_url,
                tmp_path,
                free_port(),
                {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": tg.base_url},
            )
            out: list[str] = []
            try:
                _read_until(proc, "type /start", out)
                tg.queue_update(_in_group(text_update(MEMBER, "/start")), token=TOKEN)
                [told] = _calls(tg, "sendMessage", 1)
                assert int(told.chat_id) == GROUP and PRIVATE_ONLY in (told.text or "")

                press = _in_group(callback_update(MEMBER, dose_data(uuid.uuid4(), "t")))
                tg.queue_update(press, token=TOKEN)
                [answered] = _calls(tg, "answerCallbackQuery", 1)
                assert answered.params["callback_query_id"] == press["callback_query"]["id"]
                assert PRIVATE_ONLY in answered.params["text"]

                tg.queue_update(
                    edited_update(text_update(PATIENT_CHAT, "tken"), text="taken"), token=TOKEN
                )
                _, again = _calls(tg, "sendMessage", 2)
                assert int(again.chat_id) == PATIENT_CHAT and again.text == EDITS_NOT_READ

                tg.queue_update(
                    member_update(PATIENT_CHAT, "kicked", int(time.time())), token=TOKEN
                )
                deadline = time.monotonic() + 60
                active = True
                while active and time.monotonic() < deadline:
                    active = await conn.fetchval(
                        "select active from contact_points where address = $1",
                        str(PATIENT_CHAT),
                    )
                    time.sleep(0.2)
                assert active is False
                # Nothing of it was stored as a patient's message.
                assert await conn.fetchval("select count(*) from inbound_messages") == 0
                assert set(tg.calls_to("getUpdates")[-1].params["allowed_updates"]) == {
                    "message",
                    "edited_message",
                    "callback_query",
                    "my_chat_member",
                }
            finally:
                _stop(proc)
    finally:
        await conn.close()
