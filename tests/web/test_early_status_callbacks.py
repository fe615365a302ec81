"""Item 8 of issue 15: a Twilio status callback that arrives before the worker has recorded the
send is applied when the send is recorded, in any order, and never moves a status backwards.

Over a real ``medremind web`` and ``medremind worker``: the loopback Twilio posts its signed
``sent`` and ``delivered`` callbacks to the web process before it answers the worker's create (the
callback overtakes the API response), so both are stored while the message is still
``processing``; once the worker records the send, the message is ``delivered`` with its attempt
row. A late ``sent`` afterwards changes nothing; an early ``undelivered`` makes it ``failed``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.factories import create_message, create_patient
from tests.fakes.fake_twilio import FakeTwilio, status_form
from tests.web.conftest import twilio_signature
from tests.web.processes import StartWeb, kill, start_worker, stop, twilio_env


async def _settled(conn: asyncpg.Connection, message_id: Any, log: Path) -> asyncpg.Record:
    """The message once it has left pending/processing (or fail after a generous deadline)."""
    deadline = time.monotonic() + 60
    while True:
        row = await conn.fetchrow(
            "select status, provider_message_id, delivered_at, last_error"
            "  from scheduled_messages where id = $1",
            message_id,
        )
        if row["status"] not in ("pending", "processing"):
            return row
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.1)


async def test_callbacks_before_the_send_is_recorded_are_applied_when_it_is(
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
):
    web, base = await web_process()
    fake_twilio.call_back_before_answering(base, "sent", "delivered")
    worker = start_worker(database_url, tmp_path, **twilio_env(fake_twilio))
    log = tmp_path / "worker.log"
    try:
        patient = await create_patient(admin_conn, contacts={"sms": "+14155550142"})
        first = await create_message(admin_conn, patient["id"], urgent=True, platform="sms")
        row = await _settled(admin_conn, first["id"], log)
        # Both callbacks were answered before the worker had the sid, and were kept.
        assert fake_twilio.callback_answers == [204, 204]
        assert row["status"] == "delivered", (row, log.read_text()[-3000:])
        assert row["delivered_at"] is not None
        sid = row["provider_message_id"]
        attempts = await admin_conn.fetch(
            "select status from message_delivery_attempts where message_id = $1"
            " order by attempt_time",
            first["id"],
        )
        assert [a["status"] for a in attempts] == ["sent", "delivered"]
        assert (
            await admin_conn.fetchval(
                "select count(*) from delivery_status_events"
                " where provider_message_id = $1 and applied_at is null",
                sid,
            )
            == 0
        )

        # A late 'sent' (its first sighting after 'delivered') never moves it back.
        async with httpx.AsyncClient(base_url=base) as http:
            form = status_form(sid, "queued")
            response = await http.post(
                "/twilio/status",
                data=form,
                headers={"X-Twilio-Signature": twilio_signature("/twilio/status", form)},
            )
            assert response.status_code == 204
        row = await _settled(admin_conn, first["id"], log)
        assert row["status"] == "delivered"

        # An early 'undelivered' (a carrier refusal that overtakes the response): failed.
        fake_twilio.call_back_before_answering(base, "undelivered")
        second = await create_message(admin_conn, patient["id"], urgent=True, platform="sms")
        row = await _settled(admin_conn, second["id"], log)
        deadline = time.monotonic() + 30
        while row["status"] == "sent" and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            row = await _settled(admin_conn, second["id"], log)
        assert row["status"] == "failed", row
        assert "undelivered" in row["last_error"]

        await stop(web, timeout=30)
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0
    finally:
        kill(worker)
