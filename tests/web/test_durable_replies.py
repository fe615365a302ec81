"""Item 9 of issue 15: bot replies go through the same durable path as every other outbound
message (stored, retried, visible), so a provider failure delays a reply but never loses it.

Over real ``medremind web`` and ``medremind worker`` processes with the loopback Bot API and
Twilio: the turn stores its replies as leased rows of ``scheduled_messages`` in its own
transaction, the web process sends them at once and records the outcome; what it cannot send
(a 5xx, a hard kill between the commit and the send, a stop in the middle) the worker sends,
once. A chat that is not a patient's yet (mid-registration) gets the same; an SMS patient too.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core.db import Database
from tests.factories import create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.processes import (
    FAST_RETRY,
    StartWeb,
    clinic_key,
    kill,
    start_worker,
    stop,
    twilio_env,
)
from tests.web.reply_chat import all_status, eventually, post_sms, post_text

CHAT = 555000931
REPLIES = """
select m.id, m.status, m.platform, m.kind, m.message_content, m.last_error, m.attempts,
       m.patient_id, m.organization_id, m.urgent
  from scheduled_messages m join conversations c on c.id = m.conversation_id
 where c.channel = $1 and c.chat_address = $2
 order by m.idempotency_key
"""


async def _replies(
    conn: asyncpg.Connection, address: str, *, channel: str = "telegram", until: Any = None
) -> list[asyncpg.Record]:
    """The chat's reply rows, once ``until(rows)`` holds (within a minute)."""
    return await eventually(conn, REPLIES, channel, address, until=until)


async def _attempts(conn: asyncpg.Connection, message_id: Any) -> list[tuple[str, str | None]]:
    rows = await conn.fetch(
        "select status, error_class from message_delivery_attempts where message_id = $1"
        " order by attempt_time",
        message_id,
    )
    return [(r["status"], r["error_class"]) for r in rows]


def _sent_texts(fake_telegram: FakeTelegram, chat: int) -> list[str]:
    return [c.params["text"] for c in fake_telegram.sent_messages if str(c.chat_id) == str(chat)]


def _telegram_worker(database_url: str, tmp_path: Path, tg: FakeTelegram, **extra: str) -> Any:
    return start_worker(
        database_url,
        tmp_path,
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=tg.base_url,
        **extra,
    )


async def _stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    assert await asyncio.to_thread(worker.wait, 30) == 0


async def test_a_reply_refused_with_a_5xx_is_sent_by_the_worker_once(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    patient = await create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    web, base = await web_process(**FAST_RETRY)
    # The web process's send and its one quick retry.
    fake_telegram.fail_next(500, "Internal Server Error", method="sendMessage", times=2)
    await post_text(base, CHAT, "/help")
    [queued] = await _replies(admin_conn, str(CHAT), until=all_status("pending"))
    assert (queued["platform"], queued["kind"], queued["urgent"]) == ("telegram", "system", True)
    assert queued["patient_id"] == patient["id"]
    assert queued["attempts"] == 1 and "telegram" in queued["last_error"]
    assert await _attempts(admin_conn, queued["id"]) == [("failed", "transient")]
    assert _sent_texts(fake_telegram, CHAT) == []

    worker = _telegram_worker(database_url, tmp_path, fake_telegram)
    try:
        [row] = await _replies(admin_conn, str(CHAT), until=all_status("sent"))
        assert row["attempts"] == 2 and row["last_error"] is None
        assert await _attempts(admin_conn, row["id"]) == [("failed", "transient"), ("sent", None)]
        await _stop_worker(worker)
        await stop(web, timeout=30)
    finally:
        kill(worker)
    assert [t.strip() for t in _sent_texts(fake_telegram, CHAT)] == [
        queued["message_content"].strip()
    ]


async def test_a_reply_lost_to_a_hard_kill_after_the_turn_is_sent_after_its_lease(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    # The turn commits with its reply; the web process is killed (SIGKILL) while the Bot API
    # holds the reply's sendMessage unanswered: no outcome is ever recorded.
    await create_patient(admin_conn, contacts={"telegram": str(CHAT + 2)})
    web, base = await web_process(MEDREMIND_LEASE_SECONDS="6")
    fake_telegram.hold_next(method="sendMessage", chat_id=CHAT + 2)
    await post_text(base, CHAT + 2, "/help")
    held = await fake_telegram.wait_for_held(timeout=60)
    [leased] = await admin_conn.fetch(REPLIES, "telegram", str(CHAT + 2))
    assert (leased["status"], leased["attempts"]) == ("processing", 1)
    assert held.params["text"].strip() == leased["message_content"].strip()
    web.kill()
    await asyncio.to_thread(web.wait, 30)
    fake_telegram.release_held(502)  # the answer goes nowhere: Telegram never took it

    worker = _telegram_worker(database_url, tmp_path, fake_telegram, MEDREMIND_LEASE_SECONDS="6")
    try:
        [row] = await _replies(admin_conn, str(CHAT + 2), until=all_status("sent"))
        # The lost lease gave its attempt back and was counted apart (the reaper: migration
        # 20260101018000): one attempt, the send that went.
        assert row["attempts"] == 1
        assert (
            await admin_conn.fetchval(
                "select leases_lost from scheduled_messages where id = $1", row["id"]
            )
            == 1
        )
        assert await _attempts(admin_conn, row["id"]) == [("sent", None)]
        await _stop_worker(worker)
    finally:
        kill(worker)
    assert [t.strip() for t in _sent_texts(fake_telegram, CHAT + 2)] == [
        leased["message_content"].strip()
    ]


async def test_a_registering_chat_gets_its_replies_after_a_5xx_in_order(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    # A stranger writes /start: no patient, no clinic. Its replies are rows all the same, seen
    # by no clinic, and their text is forgotten once sent.
    web, base = await web_process(**FAST_RETRY)
    fake_telegram.fail_next(500, "Internal Server Error", method="sendMessage", times=2)
    await post_text(base, CHAT + 3, "/start")
    rows = await _replies(admin_conn, str(CHAT + 3), until=all_status("pending"))
    assert {(r["patient_id"], r["organization_id"]) for r in rows} == {(None, None)}
    texts = [r["message_content"] for r in rows]
    assert all(texts)
    await stop(web, timeout=30)

    worker = _telegram_worker(database_url, tmp_path, fake_telegram)
    try:
        rows = await _replies(admin_conn, str(CHAT + 3), until=all_status("sent"))
        await _stop_worker(worker)
    finally:
        kill(worker)
    assert [t.strip() for t in _sent_texts(fake_telegram, CHAT + 3)] == [t.strip() for t in texts]
    assert {r["message_content"] for r in rows} == {None}
    clinic_rows = await admin_conn.fetchval(
        "select count(*) from scheduled_messages where organization_id is not null"
    )
    assert clinic_rows == 0


async def test_a_reply_sent_at_once_is_a_sent_message_in_the_api(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    db: Database,
    admin_conn: asyncpg.Connection,
):
    org, key = await clinic_key(db, admin_conn, "Reply Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"telegram": str(CHAT + 4)})
    web, base = await web_process()
    await post_text(base, CHAT + 4, "/help")
    [row] = await _replies(admin_conn, str(CHAT + 4), until=all_status("sent"))
    assert row["organization_id"] == org["id"] and row["attempts"] == 1
    assert await _attempts(admin_conn, row["id"]) == [("sent", None)]
    [sent] = _sent_texts(fake_telegram, CHAT + 4)
    async with httpx.AsyncClient(base_url=base) as http:
        listed = await http.get(
            "/api/v1/messages",
            params={"patient_id": str(patient["id"])},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert listed.status_code == 200, listed.text
    [message] = listed.json()["data"]
    assert message["status"] == "sent"
    assert message["id"] == str(row["id"])
    assert sent.strip() == row["message_content"].strip()
    await stop(web, timeout=30)


async def test_an_sms_reply_refused_by_twilio_is_sent_by_the_worker(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    phone = "+14155550177"
    await create_patient(admin_conn, contacts={"sms": phone})
    web, base = await web_process(**FAST_RETRY)
    fake_twilio.fail_next_server_error(times=2)
    await post_sms(base, phone, "menu")
    rows = await _replies(admin_conn, phone, channel="sms", until=all_status("pending"))
    assert rows[0]["platform"] == "sms" and rows[0]["attempts"] == 1
    assert fake_twilio.messages == []
    await stop(web, timeout=30)

    worker = start_worker(database_url, tmp_path, **twilio_env(fake_twilio))
    try:
        rows = await _replies(admin_conn, phone, channel="sms", until=all_status("sent"))
        await _stop_worker(worker)
    finally:
        kill(worker)
    assert [m.body for m in fake_twilio.messages if m.to == phone] == [
        r["message_content"] for r in rows
    ]


async def test_a_reply_in_flight_when_the_web_process_stops_goes_to_the_worker(
    web_process: StartWeb, fake_telegram: FakeTelegram, admin_conn: asyncpg.Connection
):
    # A deploy restarts the web process while the Bot API is slow: the turn is recorded, its
    # reply still on the wire when the shutdown grace ends; the reply goes back to the dispatcher.
    await create_patient(admin_conn, contacts={"telegram": str(CHAT + 1)})
    web, base = await web_process(MEDREMIND_SHUTDOWN_GRACE="2")
    fake_telegram.latency = 30
    await post_text(base, CHAT + 1, "/help")
    [leased] = await _replies(admin_conn, str(CHAT + 1))
    assert leased["status"] == "processing"
    await asyncio.sleep(0.5)  # the reply's sendMessage is on its way to the slow Bot API
    await stop(web, timeout=30)
    [row] = await admin_conn.fetch(REPLIES, "telegram", str(CHAT + 1))
    assert (row["status"], row["platform"], row["kind"]) == ("pending", "telegram", "system")
    assert "cancelled at shutdown" in row["last_error"]
    assert await _attempts(admin_conn, row["id"]) == [("unknown", "transient")]
