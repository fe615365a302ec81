"""An appointment booked again (same patient, same start, same clinic) without an
``Idempotency-Key`` is a 409 naming the one booked first, not a second appointment with a
second confirmation and second reminders. Over the real app and database, on the app's clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from tests.factories import create_patient
from tests.web.conftest import START

AT = (START + timedelta(days=5)).replace(hour=12, minute=0).isoformat()


async def _confirmations(conn: asyncpg.Connection, patient_id: Any) -> int:
    return await conn.fetchval(
        "select count(*) from scheduled_messages m join appointments a on a.id = m.appointment_id"
        " where a.patient_id = $1 and m.kind = 'appointment_confirmation'",
        patient_id,
    )


def _refused_naming(response: httpx.Response, existing: str, field: str) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert (error["field"], error["existing_id"]) == (field, existing), error
    assert "already has an appointment at this time" in error["reason"]
    assert "PATCH /api/v1/appointments/{id}" in error["reason"]
    assert response.headers["location"] == f"/api/v1/appointments/{existing}"


async def test_a_booking_sent_again_is_refused_naming_the_first(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, patient, auth, org
) -> None:
    body = {"patient_id": str(patient["id"]), "starts_at": AT, "location": "Room 3"}
    first = await web.post("/api/v1/appointments", json=body, headers=auth)
    assert first.status_code == 201, first.text
    booked = first.json()["id"]

    again = await web.post("/api/v1/appointments", json=body, headers=auth)
    _refused_naming(again, booked, "starts_at")
    # Another room or clinician at the same instant is the same visit told differently.
    moved = await web.post("/api/v1/appointments", json=body | {"location": "Room 4"}, headers=auth)
    _refused_naming(moved, booked, "starts_at")
    assert await _confirmations(admin_conn, patient["id"]) == 1

    # An Idempotency-Key's retry is still its replay.
    keyed = {**auth, "Idempotency-Key": "book-1"}
    later = body | {"starts_at": (START + timedelta(days=6)).isoformat()}
    replies = [await web.post("/api/v1/appointments", json=later, headers=keyed) for _ in "ab"]
    assert [r.status_code for r in replies] == [201, 201]
    assert replies[1].headers["idempotent-replayed"] == "true"

    # Two copies at once: one books, the other names it.
    other_time = body | {"starts_at": (START + timedelta(days=7)).isoformat()}
    both = await asyncio.gather(
        *(web.post("/api/v1/appointments", json=other_time, headers=auth) for _ in "ab")
    )
    assert sorted(r.status_code for r in both) == [201, 409], [r.text for r in both]
    winner = next(r for r in both if r.status_code == 201).json()["id"]
    _refused_naming(next(r for r in both if r.status_code == 409), winner, "starts_at")

    # Another patient at that time, and this one once the first is cancelled, are bookings.
    someone = await create_patient(admin_conn, org["id"])
    theirs = await web.post(
        "/api/v1/appointments", json=body | {"patient_id": str(someone["id"])}, headers=auth
    )
    assert theirs.status_code == 201, theirs.text
    cancelled = await web.post(f"/api/v1/appointments/{booked}/cancel", headers=auth)
    assert cancelled.status_code == 200
    rebooked = await web.post("/api/v1/appointments", json=body, headers=auth)
    assert rebooked.status_code == 201, rebooked.text
    assert await _confirmations(admin_conn, patient["id"]) == 4


async def test_two_bookings_the_clinic_keeps_apart_are_both_taken(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    body = {"patient_id": str(patient["id"]), "starts_at": AT}
    first = await web.post("/api/v1/appointments", json=body | {"external_id": "A-1"}, headers=auth)
    second = await web.post(
        "/api/v1/appointments", json=body | {"external_id": "A-2"}, headers=auth
    )
    assert (first.status_code, second.status_code) == (201, 201), second.text
    # Without an external_id, or with the same one, it is the first booking again.
    for extra in ({}, {"external_id": "A-1"}):
        again = await web.post("/api/v1/appointments", json=body | extra, headers=auth)
        _refused_naming(again, first.json()["id"], "starts_at")


async def test_a_fhir_appointment_without_id_imported_again_is_refused(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    resource = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": AT,
        "participant": [{"actor": {"reference": f"Patient/{patient['id']}"}}],
    }
    first = await web.post("/api/v1/fhir/Appointment", json=resource, headers=auth)
    assert first.status_code == 201, first.text
    again = await web.post("/api/v1/fhir/Appointment", json=resource, headers=auth)
    _refused_naming(again, first.json()["id"], "start")
    assert await _confirmations(admin_conn, patient["id"]) == 1


async def test_a_reschedule_onto_another_appointment_is_refused_naming_it(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, patient, auth
) -> None:
    body = {"patient_id": str(patient["id"])}
    first = await web.post("/api/v1/appointments", json=body | {"starts_at": AT}, headers=auth)
    later = (START + timedelta(days=6)).isoformat()
    second = await web.post("/api/v1/appointments", json=body | {"starts_at": later}, headers=auth)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    path = f"/api/v1/appointments/{second.json()['id']}"
    moved = await web.patch(path, json={"starts_at": AT}, headers=auth)
    _refused_naming(moved, first.json()["id"], "starts_at")
    kept = await web.get(path, headers=auth)
    assert kept.json()["starts_at"] == second.json()["starts_at"]
    # Elsewhere, or a change of its details at its own time, as before.
    elsewhere = (START + timedelta(days=8)).isoformat()
    assert (await web.patch(path, json={"starts_at": elsewhere}, headers=auth)).status_code == 200
    own = await web.patch(path, json={"starts_at": elsewhere, "location": "Room 9"}, headers=auth)
    assert own.status_code == 200, own.text
