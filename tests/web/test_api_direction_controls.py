"""Texts the API fills into patients' messages lose direction controls with a scope, as the bot
and the database drop them (migration 20260101015900, core/person_names.py): a FHIR medicine's
name and dose, an appointment's place and clinician, the clinic's name. An unterminated U+202E
in one of them reversed the rest of every line it was filled into."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg


def _noon_in(days: int) -> str:
    """Noon UTC ``days`` from today: a clinic's hour whatever the hour the suite runs at."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=days)).isoformat()


async def test_a_fhir_medicine_is_stored_and_answered_without_overrides(
    client, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    resource = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient['id']}"},
        "medicationCodeableConcept": {"text": "Lisin\u202eopril"},
        "dosageInstruction": [
            {
                "text": "\u2067one tablet\u2069",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            }
        ],
    }
    response = await client.post("/api/v1/fhir/MedicationRequest", json=resource, headers=auth)
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["dose"]) == ("Lisinopril", "one tablet")
    row = await admin_conn.fetchrow("select name, dose from medications")
    assert (row["name"], row["dose"]) == ("Lisinopril", "one tablet")

    resource["medicationCodeableConcept"] = {"text": "\u202e"}
    refused = await client.post("/api/v1/fhir/MedicationRequest", json=resource, headers=auth)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "medicationCodeableConcept.text"


async def test_an_appointment_and_the_clinic_are_stored_without_overrides(
    client, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    booked = await client.post(
        "/api/v1/appointments",
        json={
            "patient_id": str(patient["id"]),
            "starts_at": _noon_in(5),
            "location": "Room\u202e 3",
            "clinician_name": "\u2066Dr Weiss",
        },
        headers=auth,
    )
    assert booked.status_code == 201, booked.text
    assert (booked.json()["location"], booked.json()["clinician_name"]) == ("Room 3", "Dr Weiss")
    stored = await admin_conn.fetchrow("select location, clinician_name from appointments")
    assert tuple(stored) == ("Room 3", "Dr Weiss")

    only_controls = await client.post(
        "/api/v1/appointments",
        json={"patient_id": str(patient["id"]), "starts_at": _noon_in(6), "location": "\u202e"},
        headers=auth,
    )
    assert only_controls.status_code == 422, only_controls.text
    error = only_controls.json()["error"]
    assert error["field"] == "location" and "direction controls" in error["reason"]

    renamed = await client.patch(
        "/api/v1/clinic", json={"name": "North\u202e Clinic"}, headers=auth
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "North Clinic"


async def test_a_template_leaving_an_override_open_is_refused_naming_it(
    client, admin_conn: asyncpg.Connection, auth
) -> None:
    """A clinic's template with an unclosed U+202E was saved: every reminder made from it read
    reversed after it (the API's own preview showed "... ‮ your dose at 2025-01-15 20:00")."""
    body = "Hi {{ patient_name }}, \u202eyour dose at {{ due_at }}"
    checked = await client.post(
        "/api/v1/templates/validate",
        json={"kind": "medication_reminder", "body": body},
        headers=auth,
    )
    assert checked.status_code == 422, checked.text
    (problem,) = checked.json()["problems"]
    assert problem.startswith("line 1: U+202E (RIGHT-TO-LEFT OVERRIDE) is not closed on its line")
    assert "Remove it, or close it with U+202C" in problem
    saved = await client.put(
        "/api/v1/templates/dose", json={"kind": "medication_reminder", "body": body}, headers=auth
    )
    assert saved.status_code == 422 and saved.json()["error"]["field"] == "body"
    assert "U+202E" in saved.json()["error"]["reason"]
    assert await admin_conn.fetchval("select count(*) from message_templates") == 0

    # Right-to-left text that closes what it opens is writing, not a trick.
    closed = "\u2067مرحبا {{ patient_name }}\u2069, \u202bdose\u202c"
    saved = await client.put(
        "/api/v1/templates/dose", json={"kind": "medication_reminder", "body": closed}, headers=auth
    )
    assert saved.status_code in (200, 201), saved.text


# Texts kept as the clinic wrote them: a direction control left open on its line is refused, as in
# a template (core/direction_controls.py), naming the field, the character, its line and closer.
_OPEN = "\u202e"
_CLOSED = "\u202eARABIC\u202c"


def _refused(response, field: str, line: int = 1) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field, error
    reason = error["reason"]
    assert f"line {line}: U+202E (RIGHT-TO-LEFT OVERRIDE) is not closed" in reason, reason
    assert "Remove it, or close it with U+202C" in reason, reason


async def test_a_messages_text_with_an_open_override_is_refused(
    client, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    body = {"patient_id": str(patient["id"]), "scheduled_time": _noon_in(2)}
    text = f"Your results are ready.\nCall us at 030 1234{_OPEN} 567"
    _refused(
        await client.post("/api/v1/messages", json=body | {"text": text}, headers=auth), "text", 2
    )
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 0
    closed = await client.post(
        "/api/v1/messages", json=body | {"text": f"Results {_CLOSED} ready"}, headers=auth
    )
    assert closed.status_code == 201, closed.text
    assert closed.json()["text"] == f"Results {_CLOSED} ready"  # right-to-left writing stays


async def test_an_external_id_with_an_open_override_is_refused(
    client, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    created = await client.post(
        "/api/v1/patients",
        json={"display_name": "Bo", "external_id": f"MRN{_OPEN}123"},
        headers=auth,
    )
    _refused(created, "external_id")
    path = f"/api/v1/patients/{patient['id']}"
    _refused(
        await client.patch(path, json={"external_id": f"{_OPEN}9"}, headers=auth), "external_id"
    )
    booked = await client.post(
        "/api/v1/appointments",
        json={
            "patient_id": str(patient["id"]),
            "starts_at": _noon_in(5),
            "external_id": f"A{_OPEN}1",
        },
        headers=auth,
    )
    _refused(booked, "external_id")
    fhir = {
        "resourceType": "Appointment",
        "id": f"ehr{_OPEN}9",
        "status": "booked",
        "start": _noon_in(5),
        "participant": [{"actor": {"reference": f"Patient/{patient['id']}"}}],
    }
    _refused(await client.post("/api/v1/fhir/Appointment", json=fhir, headers=auth), "id")
    assert await admin_conn.fetchval("select count(*) from appointments") == 0


async def test_a_waitlist_note_with_an_open_override_is_refused(
    client, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    body = {"patient_id": str(patient["id"])}
    _refused(
        await client.post(
            "/api/v1/waitlist", json=body | {"note": f"mornings{_OPEN}"}, headers=auth
        ),
        "note",
    )
    kept = await client.post(
        "/api/v1/waitlist", json=body | {"note": f"mornings {_CLOSED}"}, headers=auth
    )
    assert kept.status_code == 201, kept.text
    assert kept.json()["note"] == f"mornings {_CLOSED}"
