"""Values that go into reminders are held to the template check's maxima on the API (issue 15
item 2), over the real web process: a patient's name of 51 characters (or 26 emoji: 52 UTF-16
units), an appointment's place of 81 or clinician of 51, a FHIR medicine of 61 or dose text of 41
get a 422 naming the field and the limit; the limit itself is accepted. Nothing is stored from a
refused request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from core.template_vocabulary import max_units
from tests.factories import create_patient
from tests.web.processes import StartWeb, clinic_key

GRIN = "\N{GRINNING FACE}"


def _medication_request(patient: str, name: str, dose_text: str | None = None) -> dict:
    dosage: dict[str, Any] = {
        "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
        "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
    }
    if dose_text is not None:
        dosage = {"timing": dosage["timing"], "text": dose_text}
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient}"},
        "medicationCodeableConcept": {"text": name},
        "dosageInstruction": [dosage],
    }


async def test_the_api_refuses_values_longer_than_reminders_allow(
    db: Any, admin_conn: asyncpg.Connection, web_process: StartWeb
) -> None:
    org, key = await clinic_key(db, admin_conn, "Limits Clinic")
    patient = await create_patient(admin_conn, org["id"])
    _, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    starts = (datetime.now(UTC) + timedelta(days=3)).isoformat()

    async def refused(http: httpx.AsyncClient, path: str, body: dict, field: str, limit: int):
        answer = await http.post(path, headers=auth, json=body)
        assert answer.status_code == 422, (path, answer.text)
        error = answer.json()["error"]
        assert error["field"] == field, error
        assert f"at most {limit} characters" in error["reason"], error

    name, place, clinician = (max_units(v) for v in ("patient_name", "location", "clinician_name"))
    medicine, dose = max_units("medicine_name"), max_units("dose_text")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for too_long in ("N" * (name + 1), GRIN * (name // 2 + 1)):
            await refused(
                http, "/api/v1/patients", {"display_name": too_long}, "display_name", name
            )
        fits = await http.post(
            "/api/v1/patients", headers=auth, json={"display_name": GRIN * (name // 2)}
        )
        assert fits.status_code == 201, fits.text

        appointment = {"patient_id": str(patient["id"]), "starts_at": starts}
        await refused(
            http,
            "/api/v1/appointments",
            appointment | {"location": "L" * (place + 1)},
            "location",
            place,
        )
        await refused(
            http,
            "/api/v1/appointments",
            appointment | {"clinician_name": "C" * (clinician + 1)},
            "clinician_name",
            clinician,
        )
        booked = await http.post(
            "/api/v1/appointments",
            headers=auth,
            json=appointment | {"location": "L" * place, "clinician_name": "C" * clinician},
        )
        assert booked.status_code == 201, booked.text

        await refused(
            http,
            "/api/v1/fhir/MedicationRequest",
            _medication_request(str(patient["id"]), "M" * (medicine + 1)),
            "medicationCodeableConcept.text",
            medicine,
        )
        await refused(
            http,
            "/api/v1/fhir/MedicationRequest",
            _medication_request(str(patient["id"]), "Metformin", "d" * (dose + 1)),
            "dosageInstruction[0].text",
            dose,
        )
        await refused(
            http,
            "/api/v1/fhir/Appointment",
            {
                "resourceType": "Appointment",
                "id": "limits-1",
                "status": "booked",
                "start": starts,
                "participant": [
                    {"actor": {"reference": f"Patient/{patient['id']}"}},
                    {"actor": {"reference": "Location/room", "display": "R" * (place + 1)}},
                ],
            },
            "participant[1].actor.display",
            place,
        )
    names = await admin_conn.fetch(
        "select display_name from patients where organization_id = $1", org["id"]
    )
    assert sorted(len(r["display_name"] or "") for r in names) == sorted(
        [len(patient["display_name"]), name // 2]
    )
    assert await admin_conn.fetchval("select count(*) from medications") == 0
