"""The reply to a Taken press, answered in one statement (bot/button_turn.py), is as durable as
every other reply (issue 15, item 9): stored in the statement that records the answer and marks
the update processed, sent after it, recorded under its lease; a Bot API 5xx leaves it to the
worker, and so does a hard kill of the web process in the middle of the send, once the lease is
over. Real ``medremind web`` and ``medremind worker`` processes, loopback Bot API.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core.answer_buttons import dose_data
from tests.factories import create_dose_event, create_medication, create_patient
from tests.fakes.fake_telegram import FakeTelegram, callback_update
from tests.web.processes import FAST_RETRY, StartWeb, kill, stop
from tests.web.reply_chat import TELEGRAM, all_status
from tests.web.test_durable_replies import (
    REPLIES,
    _attempts,
    _replies,
    _sent_texts,
    _stop_worker,
    _telegram_worker,
)

CHAT = 555000951
TAKEN = "Taken at {}. Well done!"


async def _due_dose(conn: asyncpg.Connection, chat: int) -> Any:
    """A patient of ``chat`` with its conversation and a dose due five minutes ago."""
    patient = await create_patient(conn, contacts={"telegram": str(chat)})
    await conn.execute(
        "insert into conversations (channel, chat_address, patient_id) values ('telegram', $1, $2)",
        str(chat),
        patient["id"],
    )
    # Paused: the worker's planner makes no reminders of it during the test.
    _, schedule = await create_medication(conn, patient["id"], schedule={"status": "paused"})
    dose = await create_dose_event(conn, schedule, datetime.now(UTC) - timedelta(minutes=5))
    return dose["id"]


async def _press_taken(base: str, chat: int, dose_id: Any) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/telegram/webhook",
            content=json.dumps(callback_update(chat, dose_data(dose_id, "t"))).encode(),
            headers=TELEGRAM,
        )
        assert response.status_code == 200


async def _answered(conn: asyncpg.Connection, dose_id: Any) -> None:
    """The dose taken and the update processed: the statement committed."""
    assert await conn.fetchval("select status from dose_events where id = $1", dose_id) == "taken"
    assert await conn.fetchval("select status from inbound_messages") == "processed"


async def test_a_taken_reply_refused_with_a_5xx_is_sent_by_the_worker_once(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    dose_id = await _due_dose(admin_conn, CHAT)
    web, base = await web_process(**FAST_RETRY)
    # The edit fails, and so do the send that replaces it and its one quick retry.
    fake_telegram.fail_next(500, "Internal Server Error", method="editMessageText")
    fake_telegram.fail_next(500, "Internal Server Error", method="sendMessage", times=2)
    await _press_taken(base, CHAT, dose_id)
    [queued] = await _replies(admin_conn, str(CHAT), until=all_status("pending"))
    await _answered(admin_conn, dose_id)
    assert queued["message_content"].startswith("Taken at ")
    assert (queued["kind"], queued["urgent"], queued["attempts"]) == ("system", True, 1)
    assert await _attempts(admin_conn, queued["id"]) == [("failed", "transient")]
    assert _sent_texts(fake_telegram, CHAT) == []

    worker = _telegram_worker(database_url, tmp_path, fake_telegram)
    try:
        [row] = await _replies(admin_conn, str(CHAT), until=all_status("sent"))
        assert row["attempts"] == 2
        assert await _attempts(admin_conn, row["id"]) == [("failed", "transient"), ("sent", None)]
        await _stop_worker(worker)
        await stop(web, timeout=30)
    finally:
        kill(worker)
    assert _sent_texts(fake_telegram, CHAT) == [queued["message_content"]]


async def test_a_taken_reply_lost_to_a_hard_kill_mid_send_is_sent_after_its_lease(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    dose_id = await _due_dose(admin_conn, CHAT + 1)
    web, base = await web_process(MEDREMIND_LEASE_SECONDS="6")
    # The Bot API holds the edit of the reminder; the web process is SIGKILLed meanwhile.
    fake_telegram.hold_next(method="editMessageText", chat_id=CHAT + 1)
    await _press_taken(base, CHAT + 1, dose_id)
    held = await fake_telegram.wait_for_held(timeout=60)
    [leased] = await admin_conn.fetch(REPLIES, "telegram", str(CHAT + 1))
    assert (leased["status"], leased["attempts"]) == ("processing", 1)
    assert held.params["text"] == leased["message_content"]
    await _answered(admin_conn, dose_id)
    web.kill()
    await asyncio.to_thread(web.wait, 30)
    fake_telegram.release_held(502)  # the answer goes nowhere: Telegram never took it

    worker = _telegram_worker(database_url, tmp_path, fake_telegram, MEDREMIND_LEASE_SECONDS="6")
    try:
        [row] = await _replies(admin_conn, str(CHAT + 1), until=all_status("sent"))
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
    # The worker cannot edit a message it did not send: the reply arrives as a message, once.
    assert _sent_texts(fake_telegram, CHAT + 1) == [leased["message_content"]]
