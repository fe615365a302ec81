"""A bot reply sent in its turn reads as sent then, not a day later.

The replies of one turn after the first are written due at their expiry (24 h) until the one
before is done (migration 20260101009000); the web process sends them all at once and records
them in one statement, so the release never touched them (already sent) and the dashboard and
the API showed "sent 6 Dec, 02:24" for a reply sent on 5 Dec, listed above the pending reminders
of the next day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import twilio_inbound

NUMBER = "+14155550181"


async def test_every_part_of_a_split_sms_reply_is_scheduled_when_it_was_sent(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
    auth: dict[str, str],
) -> None:
    """/settings over SMS is two messages (the menu and its numbered choices, 4 segments whole,
    3 allowed): both rows are sent, and neither is scheduled after the moment it went out, in
    the table and in the API. (/help was such a reply before it had a text of its own for SMS,
    one segment.)"""
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER})
    before = len(fake_twilio.messages)
    await twilio_inbound(web, NUMBER, "/settings")
    assert len([m for m in fake_twilio.messages[before:] if m.to == NUMBER]) == 2
    rows = await admin_conn.fetch(
        "select status, scheduled_time <= now() as due_by_now from scheduled_messages"
        " where patient_id = $1",
        patient["id"],
    )
    assert len(rows) == 2
    assert [(r["status"], r["due_by_now"]) for r in rows] == [("sent", True)] * 2
    listed = await web.get(
        "/api/v1/messages", params={"patient_id": str(patient["id"])}, headers=auth
    )
    assert listed.status_code == 200, listed.text
    soon = datetime.now(UTC) + timedelta(minutes=1)
    times = [datetime.fromisoformat(m["scheduled_time"]) for m in listed.json()["data"]]
    assert len(times) == 2 and all(t < soon for t in times), times
