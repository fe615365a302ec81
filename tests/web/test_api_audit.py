"""API actions that change what a patient receives are audited with the API key that made them
(issue 17), over the real web process: the audit triggers (migration 20260101009140) read the
actor the API names for its transaction. One row per action (the outcome is no longer audited
twice), no message body or name in any."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from tests.factories import create_patient
from tests.web.processes import StartWeb, clinic_key

TEXT = "Please bring your glucose diary, Quendolyn"


async def test_api_actions_are_audited_with_their_key(
    db: Any, admin_conn: asyncpg.Connection, web_process: StartWeb
) -> None:
    org, key = await clinic_key(db, admin_conn, "Audit Clinic")
    _, prefix, secret = key.split("_", 2)
    patient = await create_patient(admin_conn, org["id"], display_name="Quendolyn Z")
    started = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)"
        " returning id",
        org["id"],
        patient["id"],
        datetime.now(UTC) - timedelta(hours=1),
    )
    since = await admin_conn.fetchval("select coalesce(max(id), 0) from audit_log")
    _, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as http:
        booked = await http.post(
            "/api/v1/appointments", json={"patient_id": str(patient["id"]), "starts_at": later}
        )
        assert booked.status_code == 201, booked.text
        appointment = booked.json()["id"]
        cancelled = await http.post(f"/api/v1/appointments/{appointment}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        outcome = await http.post(
            f"/api/v1/appointments/{started}/outcome", json={"outcome": "no_show"}
        )
        assert outcome.status_code == 200, outcome.text
        sent = await http.post(
            "/api/v1/messages",
            json={"patient_id": str(patient["id"]), "text": TEXT, "scheduled_time": later},
        )
        assert sent.status_code == 201, sent.text
        message = sent.json()["id"]
        withdrawn = await http.post(f"/api/v1/messages/{message}/cancel")
        assert withdrawn.status_code == 200, withdrawn.text
        template = await http.put("/api/v1/templates/diary", json={"body": TEXT})
        assert template.status_code == 201, template.text

    rows = await admin_conn.fetch(
        "select actor, action, entity_id, details from audit_log"
        " where id > $1 and organization_id = $2 order by id",
        since,
        org["id"],
    )
    mine = [(r["action"], r["entity_id"]) for r in rows if r["actor"] == f"api_key:{prefix}"]
    assert ("appointment.booked", appointment) in mine
    assert ("appointment.cancelled", appointment) in mine
    assert mine.count(("appointment.no_show", str(started))) == 1
    assert ("message.scheduled", message) in mine
    assert ("message.cancelled", message) in mine
    assert "template.created" in [a for a, _ in mine]
    # Every row of these actions names the key (none written without an actor).
    assert not [r for r in rows if r["action"] == "appointment.no_show" and r["actor"] == "api"]
    dumped = json.dumps([dict(r) for r in rows], default=str)
    assert TEXT not in dumped and "Quendolyn" not in dumped
    assert secret not in dumped  # the key's secret never
