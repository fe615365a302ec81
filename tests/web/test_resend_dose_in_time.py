"""``POST /api/v1/messages/{id}/resend`` of a dose's reminder: only while its dose is open and its
time holds (migration 20260101016500), over a real ``medremind web``.

A failed reminder of an 8:00 dose re-sent at 19:00 went out ("Time for your 8:00 AM dose"), an
hour before the next one: a double dose. Now a 409 saying until when it could be sent and to send
a message instead; within its time the copy goes and keeps the reminder's expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from core.db import Database
from tests import factories
from tests.web.processes import StartWeb, clinic_key


async def _failed_reminder(conn: asyncpg.Connection, patient: asyncpg.Record, due: datetime) -> str:
    _, schedule = await factories.create_medication(conn, patient["id"])
    message = await factories.create_dose_reminder(
        conn, schedule, due, status="failed", last_error="sms: 30003 unreachable"
    )
    return str(message["id"])


async def test_a_dose_reminder_is_resent_only_within_its_time(
    web_process: StartWeb, db: Database, admin_conn: asyncpg.Connection
) -> None:
    org, key = await clinic_key(db, admin_conn, "Dose Clinic")
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550193"}
    )
    now = datetime.now(UTC)
    stale = await _failed_reminder(admin_conn, patient, now - timedelta(hours=11))
    recent = await _failed_reminder(admin_conn, patient, now - timedelta(minutes=20))
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as api:
        refused = await api.post(f"/api/v1/messages/{stale}/resend")
        assert refused.status_code == 409, refused.text
        reason = refused.json()["error"]["reason"]
        until = (now - timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")
        assert "whose time has passed" in reason and until in reason, reason
        assert "POST /messages with `text`" in reason

        resent = await api.post(f"/api/v1/messages/{recent}/resend")
        assert resent.status_code == 201, resent.text
        assert resent.json()["expires_at"].startswith(
            (now + timedelta(minutes=100)).strftime("%Y-%m-%dT%H:%M")
        )
    copies = await admin_conn.fetch(
        "select resent_from::text as of from scheduled_messages where resent_from is not null"
    )
    assert [r["of"] for r in copies] == [recent]
