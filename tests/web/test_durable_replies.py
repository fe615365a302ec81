"""Item 9 of issue 15: a bot reply lost to a Telegram 5xx is not lost: it goes through the same
durable outbound path as every other message (stored, retried, visible).

Over a real ``medremind web`` and ``medremind worker``: a registered patient writes /help; the
loopback Bot API answers the web process's sendMessage (and its one quick retry) with 500, so the
reply is stored as a ``scheduled_messages`` row on the patient's Telegram chat; the worker sends
it, with its buttons if it had any.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import asyncpg
import httpx

from tests.factories import create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram, text_update
from tests.web.conftest import WEBHOOK_SECRET
from tests.web.processes import StartWeb, kill, start_worker, stop

CHAT = 555000931


async def test_a_reply_lost_to_a_telegram_5xx_is_sent_by_the_worker(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    patient = await create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    web, base = await web_process()
    fake_telegram.fail_next(500, "Internal Server Error", method="sendMessage", times=2)
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/telegram/webhook",
            content=json.dumps(text_update(CHAT, "/help")).encode(),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200
    deadline = time.monotonic() + 60
    while True:
        queued = await admin_conn.fetchrow(
            "select id, status, platform, kind, message_content, last_error"
            "  from scheduled_messages where patient_id = $1",
            patient["id"],
        )
        if queued is not None:
            break
        assert time.monotonic() < deadline, "the reply was not queued"
        await asyncio.sleep(0.1)
    assert (queued["status"], queued["platform"], queued["kind"]) == (
        "pending",
        "telegram",
        "system",
    )
    assert "TransientError" in queued["last_error"] or "Error" in queued["last_error"]
    failed = [c for c in fake_telegram.calls_to("sendMessage", ok_only=False) if c.status != 200]
    assert len(failed) == 2
    assert not fake_telegram.calls_to("sendMessage")

    worker = start_worker(
        database_url,
        tmp_path,
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=fake_telegram.base_url,
    )
    try:
        [sent] = await fake_telegram.wait_for_calls(1, method="sendMessage", timeout=60)
        assert str(sent.params["chat_id"]) == str(CHAT)
        assert sent.params["text"].strip() == queued["message_content"].strip()
        deadline = time.monotonic() + 30
        while (
            await admin_conn.fetchval(
                "select status from scheduled_messages where id = $1", queued["id"]
            )
            != "sent"
        ):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0
        await stop(web, timeout=30)
    finally:
        kill(worker)


async def test_a_reply_in_flight_when_the_web_process_stops_is_queued(
    web_process: StartWeb, fake_telegram: FakeTelegram, admin_conn: asyncpg.Connection
):
    # A deploy restarts the web process while the Bot API is slow: the turn is recorded, its
    # reply still on the wire when the shutdown grace ends; the reply goes to the durable path.
    patient = await create_patient(admin_conn, contacts={"telegram": str(CHAT + 1)})
    web, base = await web_process(MEDREMIND_SHUTDOWN_GRACE="2")
    fake_telegram.latency = 30
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post(
            "/telegram/webhook",
            content=json.dumps(text_update(CHAT + 1, "/help")).encode(),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 200
    deadline = time.monotonic() + 60
    while await admin_conn.fetchval("select status from inbound_messages") != "processed":
        assert time.monotonic() < deadline, "the turn was not recorded"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the reply's sendMessage is on its way to the slow Bot API
    await stop(web, timeout=30)
    queued = await admin_conn.fetchrow(
        "select status, platform, kind, last_error from scheduled_messages where patient_id = $1",
        patient["id"],
    )
    assert queued is not None, "the reply in flight was lost"
    assert (queued["status"], queued["platform"], queued["kind"]) == (
        "pending",
        "telegram",
        "system",
    )
    assert "cancelled at shutdown" in queued["last_error"]
