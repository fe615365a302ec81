"""Re-sending a failed message over the API (issue 16, item 5: a dead-letter queue's first use),
through a real ``medremind web`` and ``medremind worker`` and the loopback Twilio.

An SMS the carrier refuses (21610: the patient had texted STOP) fails and marks the number opted
out. The patient texts START (the fix); the clinic's system re-sends the failed message with
``POST /api/v1/messages/{id}/resend``: a new pending copy goes out on SMS and Twilio reports it
delivered; the failed message keeps its status and attempt. Urgent messages: quiet hours never
defer them, whatever the hour.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core.db import Database
from tests.factories import create_patient
from tests.fakes.fake_twilio import FakeTwilio, inbound_form, status_form
from tests.web.conftest import twilio_signature
from tests.web.processes import StartWeb, clinic_key, kill, running_worker, twilio_env

PHONE = "+14155550188"


async def _until(conn: asyncpg.Connection, sql: str, *args: Any, log: Path) -> Any:
    """The first row of ``sql`` once there is one (a hang guard, not a timing test)."""
    deadline = time.monotonic() + 90
    while (row := await conn.fetchrow(sql, *args)) is None:
        assert time.monotonic() < deadline, (sql, log.read_text()[-3000:])
        await asyncio.sleep(0.1)
    return row


async def _signed(http: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
    return await http.post(
        path, data=form, headers={"X-Twilio-Signature": twilio_signature(path, form)}
    )


async def test_a_message_failed_by_an_opt_out_is_resent_after_start_and_delivered(
    web_process: StartWeb,
    fake_twilio: FakeTwilio,
    db: Database,
    admin_conn: asyncpg.Connection,
    database_url: str,
    tmp_path: Path,
) -> None:
    web, base = await web_process()
    org, key = await clinic_key(db, admin_conn, "Resend Clinic")
    _other, other_key = await clinic_key(db, admin_conn, "Other Clinic")
    patient = await create_patient(admin_conn, org["id"], contacts={"sms": PHONE})
    auth = {"Authorization": f"Bearer {key}"}
    fake_twilio.fail_next_opted_out(to=PHONE)
    try:
        async with (
            running_worker(database_url, tmp_path, **twilio_env(fake_twilio)) as log,
            httpx.AsyncClient(base_url=base, headers=auth) as api,
        ):
            created = await api.post(
                "/api/v1/messages",
                json={
                    "patient_id": str(patient["id"]),
                    "text": "Your prescription is ready for pickup.",
                    "platform": "sms",
                    "urgent": True,
                },
            )
            assert created.status_code == 201, created.text
            failed_id = created.json()["id"]
            failed = await _until(
                admin_conn,
                "select * from scheduled_messages where id = $1 and status = 'failed'",
                failed_id,
                log=log,
            )
            assert "21610" in failed["last_error"]
            # The number is marked opted out (in the worker's flush, just after the outcome).
            await _until(
                admin_conn,
                "select 1 from contact_points where address = $1 and opted_out_at is not null",
                PHONE,
                log=log,
            )
            # Not failed (yet): nothing to re-send, says why.
            pending = await api.post(
                "/api/v1/messages",
                json={
                    "patient_id": str(patient["id"]),
                    "text": "Later",
                    "scheduled_time": "2099-01-01T09:00:00+00:00",
                },
            )
            refused = await api.post(f"/api/v1/messages/{pending.json()['id']}/resend")
            assert refused.status_code == 409, refused.text
            assert "only a failed message can be re-sent" in refused.json()["error"]["reason"]

            # While the only number is opted out, a copy would fail again: refused, saying why.
            stopped = await api.post(f"/api/v1/messages/{failed_id}/resend")
            assert stopped.status_code == 409, stopped.text
            reason = stopped.json()["error"]["reason"]
            assert "opted out by STOP" in reason and "START" in reason
            assert (
                await admin_conn.fetchval(
                    "select count(*) from scheduled_messages where resent_from = $1", failed_id
                )
                == 0
            )

            # The fix: the patient texts START, which opts the number back in.
            assert (
                await _signed(api, "/twilio/inbound", inbound_form(PHONE, "START"))
            ).status_code in (
                200,
                204,
            )
            await _until(
                admin_conn,
                "select 1 from contact_points where address = $1 and opted_out_at is null",
                PHONE,
                log=log,
            )

            # Another clinic's key does not see the message.
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {other_key}"}
            ) as other:
                assert (await other.post(f"/api/v1/messages/{failed_id}/resend")).status_code == 404

            resent = await api.post(f"/api/v1/messages/{failed_id}/resend")
            assert resent.status_code == 201, resent.text
            copy = resent.json()
            # The worker may claim it before the answer is read back (it wakes on the insert).
            assert copy["resent_from"] == failed_id
            assert copy["status"] in ("pending", "processing")
            assert copy["text"] == "Your prescription is ready for pickup."
            again = await api.post(f"/api/v1/messages/{failed_id}/resend")
            assert again.status_code == 200 and again.json()["id"] == copy["id"]

            sent = await _until(
                admin_conn,
                "select * from scheduled_messages where id = $1 and status = 'sent'",
                copy["id"],
                log=log,
            )
            status = status_form(sent["provider_message_id"], "delivered", to=PHONE)
            assert (await _signed(api, "/twilio/status", status)).status_code == 204
            await _until(
                admin_conn,
                "select 1 from scheduled_messages where id = $1 and status = 'delivered'",
                copy["id"],
                log=log,
            )
            shown = (await api.get(f"/api/v1/messages/{copy['id']}")).json()
            assert (shown["status"], shown["channel_used"], shown["via_outbox"]) == (
                "delivered",
                "sms",
                False,
            )
            original = (await api.get(f"/api/v1/messages/{failed_id}")).json()
            assert original["status"] == "failed" and original["resent_from"] is None
    finally:
        kill(web)
    # The refused send (21610) and the re-sent one; START's confirmation went between them.
    calls = [c for c in fake_twilio.calls if "prescription" in (c.body or "")]
    assert [(c.to, c.status) for c in calls] == [(PHONE, 400), (PHONE, 201)]
    attempts = await admin_conn.fetch(
        "select message_id::text, status, error_class from message_delivery_attempts"
        " where message_id = any($1::uuid[]) order by attempt_time",
        [failed_id, copy["id"]],
    )
    assert [(a["message_id"], a["status"]) for a in attempts] == [
        (failed_id, "failed"),
        (copy["id"], "sent"),
        (copy["id"], "delivered"),
    ]
    audit = await admin_conn.fetch(
        "select actor, entity_id, details from audit_log where action = 'message.resend'"
    )
    assert [(a["actor"], a["entity_id"]) for a in audit] == [("api", copy["id"])]
