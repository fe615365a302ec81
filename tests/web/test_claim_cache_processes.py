"""Edits through the API and a patient's STOP are honoured by the worker's very next send, though
the worker caches its patients (scheduler/claim_cache.py, issue 20).

A real ``medremind web`` (the API, signed ``/twilio/inbound``) and ``medremind worker`` (its
claims on their own connection, its cache listening) on the loopback Telegram and Twilio.
Messages are urgent: quiet hours never defer them, whatever the hour.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core.db import Database
from tests.factories import create_message, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import twilio_signature
from tests.web.processes import StartWeb, clinic_key, running_worker, twilio_env

PHONE = "+14155550161"
CHAT = "555161001"


async def _sent(conn: asyncpg.Connection, message_id: Any, log: Path) -> asyncpg.Record:
    """The row once the worker has sent it (a hang guard with a generous deadline)."""
    deadline = time.monotonic() + 90
    while True:
        row = await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)
        if row["status"] == "sent":
            return row
        assert row["status"] in ("pending", "processing"), dict(row)
        assert time.monotonic() < deadline, (dict(row), log.read_text()[-3000:])
        await asyncio.sleep(0.05)


async def test_api_edits_and_a_stop_between_two_sends_are_honoured(
    db: Database,
    admin_conn: asyncpg.Connection,
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
    database_url: str,
    tmp_path: Path,
) -> None:
    org, key = await clinic_key(db, admin_conn, "Cache Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": PHONE, "telegram": CHAT})
    _, base = await web_process()
    worker_env = twilio_env(fake_twilio) | {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "MEDREMIND_WORKER_POLL_SECONDS": "0.5",
    }
    api = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    async with running_worker(database_url, tmp_path, **worker_env) as log, api:

        async def send(text: str) -> str:
            message = await create_message(
                admin_conn, patient["id"], message_content=text, urgent=True
            )
            row = await _sent(admin_conn, message["id"], log)
            channel: str = row["channel_used"]
            return channel

        async def order(*channels: str) -> None:
            response = await api.patch(
                f"/api/v1/patients/{patient['id']}", json={"channel_order": list(channels)}
            )
            assert response.status_code == 200, response.text

        # Twice by SMS: the second from the worker's cache.
        assert await send("One") == "sms"
        assert await send("Two") == "sms"
        # The clinic puts Telegram first: the very next message goes there.
        await order("telegram", "sms")
        assert await send("Three") == "telegram"
        await order("sms", "telegram")
        assert await send("Four") == "sms"
        # The patient texts STOP: nothing more by SMS, though SMS comes first.
        form = inbound_form(PHONE, "STOP")
        response = await api.post(
            "/twilio/inbound",
            data=form,
            headers={"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)},
        )
        assert response.status_code == 200, response.text
        assert await send("Five") == "telegram"

    texts = ("One", "Two", "Three", "Four", "Five")  # not the reply to STOP
    sms = [c.body for c in fake_twilio.calls if c.to == PHONE and c.body in texts]
    telegram = [m.text for m in fake_telegram.sent_messages if str(m.chat_id) == CHAT]
    assert sms == ["One", "Two", "Four"]
    assert telegram == ["Three", "Five"]
