"""A re-send and an appointment for a patient who has not consented are refused, as messages are.

Since b3135e0 ``POST /messages`` to a patient registered without consent (status ``invited``) is a
409 unless a service notice: the worker would cancel it with "no consent recorded". A re-send of
a failed message and a booked appointment (its confirmation and reminders) were still accepted,
and every row they made was then cancelled at send time, the clinic's system told "201". Now
both are a 409 on ``patient_id`` saying to send an invite link first; a service notice is still
re-sent. Over a real ``medremind web``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from core.db import Database
from tests.factories import create_patient
from tests.web.processes import StartWeb, clinic_key


async def _failed(conn: asyncpg.Connection, org_id: object, patient_id: object, kind: str) -> str:
    """A message of ``kind`` that failed (as the worker leaves one); its id."""
    return str(
        await conn.fetchval(
            "insert into scheduled_messages (organization_id, patient_id, message_content, kind,"
            " platform, scheduled_time, status, last_error)"
            " values ($1, $2, 'Hello', $3, 'auto', now() - interval '1 hour', 'failed',"
            " 'connection reset') returning id",
            org_id,
            patient_id,
            kind,
        )
    )


async def test_no_resend_or_appointment_for_a_patient_who_has_not_consented(
    web_process: StartWeb, db: Database, admin_conn: asyncpg.Connection
) -> None:
    org, key = await clinic_key(db, admin_conn, "Consent Clinic")
    invited = await create_patient(
        admin_conn, org["id"], contacts={"sms": "+14155550191"}, consent_at=None, status="invited"
    )
    joined = await create_patient(admin_conn, org["id"], contacts={"sms": "+14155550192"})
    reminder = await _failed(admin_conn, org["id"], invited["id"], "free_text")
    notice = await _failed(admin_conn, org["id"], invited["id"], "system")
    starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    _, base = await web_process()
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as api:
        resent = await api.post(f"/api/v1/messages/{reminder}/resend")
        assert resent.status_code == 409, resent.text
        error = resent.json()["error"]
        assert error["field"] == "patient_id"
        assert "has not consented yet" in error["reason"] and "/invites" in error["reason"]
        assert "create the re-send once they have joined" in error["reason"]
        # The service's own notice still goes (an invitation is one).
        assert (await api.post(f"/api/v1/messages/{notice}/resend")).status_code == 201

        booked = await api.post(
            "/api/v1/appointments",
            json={"patient_id": str(invited["id"]), "starts_at": starts},
        )
        assert booked.status_code == 409, booked.text
        assert booked.json()["error"]["field"] == "patient_id"
        assert "has not consented yet" in booked.json()["error"]["reason"]
        assert await admin_conn.fetchval("select count(*) from appointments") == 0

        fine = await api.post(
            "/api/v1/appointments", json={"patient_id": str(joined["id"]), "starts_at": starts}
        )
        assert fine.status_code == 201, fine.text
    copies = await admin_conn.fetch(
        "select resent_from::text as of from scheduled_messages where resent_from is not null"
    )
    assert [r["of"] for r in copies] == [notice]
