"""The web process's own reply sends: a permanent refusal marks the chat's contact point as the
worker's does, and bot replies raise no ``message.status`` webhook event (issue 15, item 9).

Over a real ``medremind web`` with the loopback Bot API and Twilio. Telegram's 403 "bot was
blocked by the user" and 400 "chat not found" deactivate the contact point (``blocked_at``),
Twilio's 21610 (the number unsubscribed at the carrier) opts it out (``opted_out_at``), both by the
dispatcher's own statement (``dispatch.sql: deactivate_contacts``); before, only a worker's send
marked them, and the web process sends nearly every reply itself. A deactivated chat that writes
again is usable again.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from core.db import Database
from tests.factories import create_message, create_patient
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.processes import StartWeb, clinic_key, stop
from tests.web.reply_chat import all_status, eventually, post_sms, post_text

CHAT = 555000971
CONTACT = """
select active, blocked_at, opted_out_at, last_error from contact_points
 where channel = $1 and address = $2
"""
REPLIES = """
select m.id, m.status, m.last_error
  from scheduled_messages m join conversations c on c.id = m.conversation_id
 where c.channel = $1 and c.chat_address = $2
"""


@pytest.mark.parametrize(
    ("refusal", "error"),
    [("fail_next_blocked", "blocked by the user"), ("fail_next_chat_not_found", "chat not found")],
)
async def test_a_telegram_refusal_of_the_web_process_reply_deactivates_the_chat(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
    refusal: str,
    error: str,
):
    patient = await create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    web, base = await web_process()
    getattr(fake_telegram, refusal)(method="sendMessage", times=5)
    await post_text(base, CHAT, "/help")
    rows = await eventually(admin_conn, REPLIES, "telegram", str(CHAT), until=all_status("failed"))
    assert all(error in r["last_error"] for r in rows)
    [contact] = await eventually(
        admin_conn, CONTACT, "telegram", str(CHAT), until=lambda r: r[0]["blocked_at"]
    )
    assert contact["active"] is False and contact["opted_out_at"] is None
    assert error in contact["last_error"]
    # The dispatcher now skips it, as after its own send's refusal.
    usable = await admin_conn.fetchval(
        "select count(*) from contact_points where patient_id = $1 and active"
        " and blocked_at is null and opted_out_at is null",
        patient["id"],
    )
    assert usable == 0
    # The person unblocks the bot and writes: the chat is theirs to reach again.
    fake_telegram.reset()
    await post_text(base, CHAT, "/today")
    [contact] = await eventually(
        admin_conn, CONTACT, "telegram", str(CHAT), until=lambda r: r[0]["blocked_at"] is None
    )
    assert contact["active"] is True
    await stop(web, timeout=30)


async def test_an_unsubscribed_number_refusing_the_web_process_reply_is_opted_out(
    web_process: StartWeb, fake_twilio: FakeTwilio, admin_conn: asyncpg.Connection
):
    phone = "+14155550191"
    await create_patient(admin_conn, contacts={"sms": phone})
    web, base = await web_process()
    fake_twilio.fail_next_opted_out(to=phone, times=5)
    await post_sms(base, phone, "menu")
    await eventually(admin_conn, REPLIES, "sms", phone, until=all_status("failed"))
    [contact] = await eventually(
        admin_conn, CONTACT, "sms", phone, until=lambda r: r[0]["opted_out_at"]
    )
    # Opted out, as the worker's 21610 does: the channel stays, a START opts back in.
    assert contact["active"] is True and contact["blocked_at"] is None
    assert "21610" in contact["last_error"] or "opted out" in contact["last_error"]
    await stop(web, timeout=30)


async def test_a_bot_reply_raises_no_message_status_event(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    db: Database,
    admin_conn: asyncpg.Connection,
):
    org, key = await clinic_key(db, admin_conn, "Hooked Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"telegram": str(CHAT + 1)})
    web, base = await web_process(MEDREMIND_WEBHOOK_ALLOW_PRIVATE="true")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        created = await http.post(
            "/api/v1/webhooks",
            headers={"Authorization": f"Bearer {key}"},
            json={"url": "http://127.0.0.1:9/hooks", "event_types": ["message.status"]},
        )
        assert created.status_code == 201, created.text
    await post_text(base, CHAT + 1, "/help")
    rows = await eventually(
        admin_conn, REPLIES, "telegram", str(CHAT + 1), until=all_status("sent")
    )
    assert await admin_conn.fetchval("select count(*) from webhook_events") == 0
    # The control: the clinic's own message to the same patient raises its event.
    message = await create_message(admin_conn, patient["id"], organization_id=org["id"])
    await admin_conn.execute(
        "update scheduled_messages set status = 'sent', sent_at = now() where id = $1",
        message["id"],
    )
    events = await admin_conn.fetch("select payload from webhook_events")
    assert [e["payload"]["data"]["message_id"] for e in events] == [str(message["id"])]
    assert str(rows[0]["id"]) not in str([e["payload"] for e in events])
    await stop(web, timeout=30)
