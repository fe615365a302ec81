"""``/api/v1`` appointments and the FHIR Appointment import: booking plans a confirmation and
reminders, a new time reschedules them, cancel withdraws them; other clinics see nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.erasure_race import erased_while_waiting
from tests.factories import create_patient
from tests.web.conftest import count


def _at(days: int) -> str:
    """Noon UTC ``days`` from today: a clinic's hour, whatever the hour the suite runs at (an
    appointment at 23:30 has its 2 h reminder in the clinic's quiet hours, and so one less)."""
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    return (today + timedelta(days=days)).isoformat()


async def _pending_kinds(admin_conn, appointment_id) -> list[str]:
    rows = await admin_conn.fetch(
        "select kind from scheduled_messages where appointment_id = $1 and status = 'pending'"
        " order by kind",
        appointment_id,
    )
    return [r["kind"] for r in rows]


async def test_book_reschedule_cancel(client, admin_conn, patient, auth, other_auth):
    booked = await client.post(
        "/api/v1/appointments",
        json={
            "patient_id": str(patient["id"]),
            "starts_at": _at(5),
            "duration_minutes": 45,
            "location": "Room 3",
            "clinician_name": "Dr Weiss",
            "external_id": "A-1",
        },
        headers=auth,
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["status"] == "scheduled"
    assert (appointment["duration_minutes"], appointment["location"]) == (45, "Room 3")
    kinds = await _pending_kinds(admin_conn, appointment["id"])
    assert kinds.count("appointment_confirmation") == 1
    assert kinds.count("appointment_reminder") == 2  # the organization's 24 h and 2 h

    got = await client.get(f"/api/v1/appointments/{appointment['id']}", headers=auth)
    assert got.status_code == 200 and got.json()["id"] == appointment["id"]
    assert (
        await client.get(f"/api/v1/appointments/{appointment['id']}", headers=other_auth)
    ).status_code == 404
    response = await client.patch(
        f"/api/v1/appointments/{appointment['id']}", json={"starts_at": _at(9)}, headers=other_auth
    )
    assert response.status_code == 404

    new_start = _at(7)
    moved = await client.patch(
        f"/api/v1/appointments/{appointment['id']}",
        json={"starts_at": new_start, "location": "Room 4"},
        headers=auth,
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == datetime.fromisoformat(new_start)
    assert moved.json()["location"] == "Room 4"
    kinds = await _pending_kinds(admin_conn, appointment["id"])
    assert "appointment_rescheduled" in kinds
    assert kinds.count("appointment_reminder") == 2

    assert (
        await client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=other_auth)
    ).status_code == 404
    cancelled = await client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await _pending_kinds(admin_conn, appointment["id"]) == ["appointment_cancelled"]
    again = await client.post(f"/api/v1/appointments/{appointment['id']}/cancel", headers=auth)
    assert again.status_code == 409
    late = await client.patch(
        f"/api/v1/appointments/{appointment['id']}", json={"starts_at": _at(8)}, headers=auth
    )
    assert late.status_code == 409


async def test_appointment_validation_names_the_field(client, admin_conn, patient, auth, other_org):
    theirs = await create_patient(admin_conn, other_org["id"])
    base = {"patient_id": str(patient["id"]), "starts_at": _at(2)}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"starts_at": _at(-1)}, "starts_at"),
        ({"starts_at": "2030-01-01T09:00:00"}, "starts_at"),
        ({"starts_at": None}, "starts_at"),
        ({"patient_id": str(theirs["id"])}, "patient_id"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"location": "x" * 201}, "location"),
        ({"reminder_offsets": [60, -5]}, "reminder_offsets[1]"),
        ({"reminder_offsets": "60"}, "reminder_offsets"),
    ]
    for change, field in cases:
        body = {k: v for k, v in (base | change).items() if v is not None}
        response = await client.post("/api/v1/appointments", json=body, headers=auth)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field
    assert await count(admin_conn, "appointments") == 0
    booked = await client.post("/api/v1/appointments", json=base, headers=auth)
    response = await client.patch(
        f"/api/v1/appointments/{booked.json()['id']}", json={}, headers=auth
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "body"


def _fhir_appointment(patient_ref: str, start: str, **overrides) -> dict:
    return {
        "resourceType": "Appointment",
        "id": "ehr-appt-9",
        "status": "booked",
        "start": start,
        "minutesDuration": 20,
        "participant": [
            {"actor": {"reference": patient_ref, "display": "Jo"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/7", "display": "Dr Weiss"}},
            {"actor": {"reference": "Location/2", "display": "Clinic West"}},
        ],
    } | overrides


async def test_fhir_appointment_books_reschedules_and_cancels(
    client, admin_conn, patient, auth, other_auth
):
    ref = f"Patient/{patient['id']}"
    booked = await client.post(
        "/api/v1/fhir/Appointment", json=_fhir_appointment(ref, _at(4)), headers=auth
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["external_id"] == "ehr-appt-9"
    assert (appointment["clinician_name"], appointment["location"]) == ("Dr Weiss", "Clinic West")
    assert appointment["duration_minutes"] == 20

    moved = await client.post(
        "/api/v1/fhir/Appointment", json=_fhir_appointment(ref, _at(6)), headers=auth
    )
    assert moved.status_code == 200 and moved.json()["id"] == appointment["id"]
    assert "appointment_rescheduled" in await _pending_kinds(admin_conn, appointment["id"])

    # Another organization's import of the same id and patient reference reaches nothing.
    response = await client.post(
        "/api/v1/fhir/Appointment",
        json=_fhir_appointment(ref, _at(6), status="cancelled"),
        headers=other_auth,
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "participant.actor.reference"

    cancelled = await client.post(
        "/api/v1/fhir/Appointment",
        json=_fhir_appointment(ref, _at(6), status="cancelled"),
        headers=auth,
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await count(admin_conn, "appointments") == 1


async def test_fhir_appointment_errors_name_the_element(client, admin_conn, patient, auth):
    ref = f"Patient/{patient['id']}"
    cases = [
        (_fhir_appointment(ref, _at(2), resourceType="Encounter"), "resourceType"),
        (_fhir_appointment(ref, _at(2), status="fulfilled"), "status"),
        (_fhir_appointment(ref, _at(-2)), "start"),
        (_fhir_appointment(ref, _at(2), participant=[]), "participant"),
        (
            _fhir_appointment(ref, _at(2), participant=[{"actor": {"reference": "Device/1"}}]),
            "participant",
        ),
        (_fhir_appointment(ref, _at(2), minutesDuration=0), "minutesDuration"),
        (_fhir_appointment("Patient/unknown", _at(2)), "participant.actor.reference"),
    ]
    for resource, field in cases:
        response = await client.post("/api/v1/fhir/Appointment", json=resource, headers=auth)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["field"] == field
    missing = _fhir_appointment(ref, _at(2), status="cancelled", id="never-imported")
    response = await client.post("/api/v1/fhir/Appointment", json=missing, headers=auth)
    assert response.status_code == 404
    assert await count(admin_conn, "appointments") == 0


async def test_a_booking_or_waitlist_entry_made_during_an_erasure_is_refused(
    client, admin_conn, org, auth, database_url
):
    """Found against medremind dev: POST /appointments (and /waitlist) sent with DELETE
    /patients/{id} read the patient as active, waited for the row the erasure held, and
    inserted after its delete: the erased patient kept appointments ("Secret Room") and a
    waitlist note. Their check of the patient now locks its row: they wait for the erasure,
    then find no patient."""
    for path, extra in (("/api/v1/appointments", {"starts_at": _at(3)}), ("/api/v1/waitlist", {})):
        patient = await create_patient(admin_conn, org["id"])
        body = {"patient_id": str(patient["id"]), **extra}
        answer = await erased_while_waiting(
            database_url, admin_conn, patient["id"], client.post(path, json=body, headers=auth)
        )
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["field"] == "patient_id"
    assert await count(admin_conn, "appointments") == 0
    assert await count(admin_conn, "waitlist_entries") == 0


async def test_a_prescription_imported_during_an_erasure_is_a_422(
    client, admin_conn, org, auth, database_url
):
    """Past the bookings: the database refuses any row written for a patient being erased
    (migration 20260101018950), and the API answered that refusal of a FHIR MedicationRequest
    with a 500. It is the 422 of a patient not the clinic's, on the field that named them."""
    from tests.web.test_api_fhir_medication_stopped import PATH, _request

    patient = await create_patient(admin_conn, org["id"])
    answer = await erased_while_waiting(
        database_url,
        admin_conn,
        patient["id"],
        client.post(PATH, json=_request(patient["id"], "rx-erased"), headers=auth),
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "subject" and "erased" in error["reason"]
    assert await count(admin_conn, "medications") == 0
