"""``POST /api/v1/fhir/MedicationRequest`` of a request imported before (its ``id``) is a 409
naming the medicine it made, not a second medicine: the patient was reminded of every dose
twice, two doses to answer for one pill (found by hand over the API: the id was ignored). Over
the real app and database, on the app's clock."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from tests.factories import create_patient


def _request(patient_id: Any, request_id: str | None, time_of_day: str = "09:00:00") -> dict:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {"text": "Lisinopril"},
        "dosageInstruction": [
            {"text": "10 mg", "timing": {"repeat": {"frequency": 1, "period": 1,
             "periodUnit": "d", "timeOfDay": [time_of_day]}}}
        ],
    }  # fmt: skip
    return resource | ({"id": request_id} if request_id else {})


async def _medicines(conn: asyncpg.Connection, patient_id: Any) -> int:
    return await conn.fetchval(
        "select count(*) from medications where patient_id = $1 and status <> 'deleted'",
        patient_id,
    )


async def test_a_request_imported_again_is_refused_naming_its_medicine(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, patient: Any, auth: dict, org: Any
) -> None:
    path = "/api/v1/fhir/MedicationRequest"
    first = await web.post(path, json=_request(patient["id"], "rx-77"), headers=auth)
    assert first.status_code == 201, first.text
    medicine = first.json()["medication_id"]
    # Again, and again with another time (a changed prescription under the same id).
    for again in (_request(patient["id"], "rx-77"), _request(patient["id"], "rx-77", "21:00:00")):
        answer = await web.post(path, json=again, headers=auth)
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert (error["field"], error["existing_id"]) == ("id", medicine)
        assert "remind the patient of every dose twice" in error["reason"]
        assert answer.headers["location"] == f"/api/v1/patients/{patient['id']}/medications"
    assert await _medicines(admin_conn, patient["id"]) == 1
    listed = await web.get(f"/api/v1/patients/{patient['id']}/medications", headers=auth)
    assert [m["external_id"] for m in listed.json()["data"]] == ["rx-77"]

    # Two copies at once: one medicine.
    both = await asyncio.gather(
        *(web.post(path, json=_request(patient["id"], "rx-78"), headers=auth) for _ in "ab")
    )
    assert sorted(r.status_code for r in both) == [201, 409], [r.text for r in both]
    assert await _medicines(admin_conn, patient["id"]) == 2

    # Another patient's request id: a 422 on id; a request without id: imported each time.
    someone = await create_patient(admin_conn, org["id"])
    theirs = await web.post(path, json=_request(someone["id"], "rx-77"), headers=auth)
    assert theirs.status_code == 422 and theirs.json()["error"]["field"] == "id", theirs.text
    for _ in "ab":
        plain = await web.post(path, json=_request(someone["id"], None), headers=auth)
        assert plain.status_code == 201, plain.text

    # A medicine deleted frees its id for a new prescription.
    await admin_conn.execute("update medications set status = 'deleted' where id = $1", medicine)
    renewed = await web.post(path, json=_request(patient["id"], "rx-77"), headers=auth)
    assert renewed.status_code == 201, renewed.text
