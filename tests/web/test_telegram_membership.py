"""A patient who blocks the bot is known at once; an edited message answers nothing.

Before: the webhook asked Telegram for messages and presses only, so a patient who blocked the
bot was learnt of at the next send's 403: the next reminder failed first on Telegram before the
patient's next channel took over. Now the bot subscribes to ``my_chat_member``: "kicked" marks
the chat's contact point blocked as that 403 does (the next reminder goes by SMS at once), and
"member" (unblocked) lifts the block; out of order or redelivered, the latest change by
Telegram's time holds. And to ``edited_message``: an edited text is never read as an answer
(it would answer a dose again, or late), but the person is told to send it again. Through the
web app's webhook, the worker's dispatcher and the loopback Bot API and Twilio.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from core.db import Database
from tests import factories
from tests.fakes.fake_telegram import (
    FakeTelegram,
    edited_update,
    location_update,
    member_update,
    text_update,
)
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import TELEGRAM_SECRET, Clock, worker
from tests.web.test_answer_router import _reminder

CHAT = 555000961
NUMBER = "+14155550161"
EDITS_NOT_READ = "I only read new messages, not edits. Please send it again as a new message."


async def _post(web: httpx.AsyncClient, update: dict[str, Any]) -> dict[str, Any]:
    response = await web.post("/telegram/webhook", json=update, headers=TELEGRAM_SECRET)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _telegram_contact(conn: asyncpg.Connection) -> asyncpg.Record:
    return await conn.fetchrow(
        "select active, blocked_at, last_error from contact_points"
        " where channel = 'telegram' and address = $1",
        str(CHAT),
    )


async def _patient(conn: asyncpg.Connection) -> asyncpg.Record:
    """A patient on Telegram first, SMS second, with a medicine."""
    return await factories.create_patient(conn, contacts={"telegram": str(CHAT), "sms": NUMBER})


async def test_blocking_the_bot_moves_the_next_reminder_to_sms_before_any_403(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
) -> None:
    patient = await _patient(admin_conn)
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    blocked_at = int(chat_clock.now.timestamp())
    assert await _post(web, member_update(CHAT, "kicked", blocked_at)) == {"ok": True}
    contact = await _telegram_contact(admin_conn)
    assert contact["active"] is False and contact["blocked_at"] is not None
    assert "blocked" in contact["last_error"]
    # Nothing is stored or processed: no reply goes to a chat that blocked the bot.
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0

    await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    assert fake_telegram.calls_to("sendMessage", ok_only=False) == []
    assert [m.to for m in fake_twilio.messages] == [NUMBER]

    # Unblocked: the next reminder goes to Telegram again.
    assert await _post(web, member_update(CHAT, "member", blocked_at + 60)) == {"ok": True}
    contact = await _telegram_contact(admin_conn)
    assert contact["active"] is True and contact["blocked_at"] is None
    chat_clock.now += timedelta(hours=4)
    await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    assert [c.chat_id for c in fake_telegram.sent_messages] == [CHAT]


async def test_out_of_order_and_redelivered_changes_keep_the_latest(
    web: httpx.AsyncClient, chat_clock: Clock, admin_conn: asyncpg.Connection
) -> None:
    await _patient(admin_conn)
    at = int(chat_clock.now.timestamp())
    blocked, unblocked = member_update(CHAT, "kicked", at), member_update(CHAT, "member", at + 5)
    # The unblock arrives first (another of Telegram's connections), then the block it undid.
    await _post(web, unblocked)
    await _post(web, blocked)
    assert (await _telegram_contact(admin_conn))["active"] is True
    # Blocked again later; the old unblock redelivered does not lift it.
    await _post(web, member_update(CHAT, "kicked", at + 10))
    await _post(web, unblocked)
    contact = await _telegram_contact(admin_conn)
    assert contact["active"] is False and contact["blocked_at"] is not None


async def test_a_block_of_another_chat_or_in_a_group_changes_nothing(
    web: httpx.AsyncClient, chat_clock: Clock, admin_conn: asyncpg.Connection
) -> None:
    await _patient(admin_conn)
    at = int(chat_clock.now.timestamp())
    await _post(web, member_update(CHAT + 1, "kicked", at))
    # The bot removed from a group the patient is in: not the patient's chat.
    await _post(web, member_update(-100123, "kicked", at, chat_type="supergroup"))
    assert (await _telegram_contact(admin_conn))["active"] is True


async def test_an_edited_message_answers_no_dose_and_says_to_send_it_again(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    typo = text_update(CHAT, "tken")
    await _post(web, typo)
    stored = await admin_conn.fetchval("select count(*) from inbound_messages")
    answer = await _post(web, edited_update(typo, text="taken"))
    assert answer["method"] == "sendMessage" and answer["chat_id"] == CHAT
    assert answer["text"] == EDITS_NOT_READ
    assert answer["reply_parameters"]["message_id"] == typo["message"]["message_id"]
    status = await admin_conn.fetchval("select status from dose_events where id = $1", dose)
    assert status == "due"
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == stored
    # A live location's updates come as edits every few seconds: never answered.
    moving = edited_update(location_update(CHAT, 40.4, -3.7))
    assert await _post(web, moving) == {"ok": True}


async def test_a_caregiver_who_blocks_the_bot_gets_no_alerts_until_unblocked(
    web: httpx.AsyncClient, chat_clock: Clock, admin_conn: asyncpg.Connection
) -> None:
    patient = await _patient(admin_conn)
    caregiver = CHAT + 7
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, 'Luis', 'telegram', $2, 30)",
        patient["id"],
        str(caregiver),
    )
    blocked = "select blocked_at is not null from caregivers where address = $1"
    at = int(chat_clock.now.timestamp())
    await _post(web, member_update(caregiver, "kicked", at))
    assert await admin_conn.fetchval(blocked, str(caregiver)) is True
    await _post(web, member_update(caregiver, "member", at + 1))
    assert await admin_conn.fetchval(blocked, str(caregiver)) is False
    # The patient's own chat is another: untouched throughout.
    assert (await _telegram_contact(admin_conn))["active"] is True
