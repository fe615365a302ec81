"""Attack run: erasing a patient left their name, phone, e-mail and the texts sent to them in the
stored first answers of ``Idempotency-Key`` creates (``api_idempotency_keys``, kept up to 30
days), and a replay answered them back (``Idempotent-Replayed: stored``). Erasure removes every
row about the patient: these go too, so a replay acts anew, and a message or appointment for the
erased patient is refused as for any unknown patient."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

PHONE = "+14155550166"


async def test_erasure_removes_the_stored_answers_about_the_patient(
    client: httpx.AsyncClient, auth: dict[str, str], admin_conn: asyncpg.Connection
) -> None:
    def keyed(key: str) -> dict[str, str]:
        return {**auth, "Idempotency-Key": key}

    patient_body = {
        "display_name": "Erin Erasable",
        "phone": PHONE,
        "email": "erin@example.org",
        "consent": True,
        "channel_order": ["sms"],
    }
    created = await client.post("/api/v1/patients", json=patient_body, headers=keyed("p-1"))
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    message_body = {"patient_id": patient_id, "text": "Erin, your biopsy results are in"}
    sent = await client.post("/api/v1/messages", json=message_body, headers=keyed("m-1"))
    assert sent.status_code == 201, sent.text
    starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    visit_body = {"patient_id": patient_id, "starts_at": starts, "location": "Oncology, room 4"}
    booked = await client.post("/api/v1/appointments", json=visit_body, headers=keyed("a-1"))
    assert booked.status_code == 201, booked.text
    other = await client.post(
        "/api/v1/patients", json={"display_name": "Olga Other"}, headers=keyed("p-2")
    )
    assert other.status_code == 201

    erased = await client.delete(f"/api/v1/patients/{patient_id}", headers=auth)
    assert erased.status_code == 200, erased.text

    stored = [
        r["body"]
        for r in await admin_conn.fetch(
            "select response_body::text as body from api_idempotency_keys"
        )
    ]
    for trace in (patient_id, PHONE, "Erin", "biopsy", "Oncology"):
        assert not [body for body in stored if trace in body], trace
    assert [body for body in stored if "Olga Other" in body]  # another patient's answer stays

    again = await client.post("/api/v1/messages", json=message_body, headers=keyed("m-1"))
    assert again.status_code == 422, again.text
    assert again.json()["error"]["field"] == "patient_id"
    assert "biopsy" not in again.text
