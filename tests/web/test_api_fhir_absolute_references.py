"""FHIR references as EHRs export them: absolute (``<FHIR base>/Patient/<id>``) and versioned
(``.../_history/<n>``) are read as the relative ``Patient/<id>``.

Before: ``subject.reference`` ``https://ehr.example.org/fhir/Patient/mrn-1`` was a 422 ("must
be a reference of the form Patient/<id>"), and an Appointment's absolute participants were not
seen at all (no patient, the clinician's name dropped), though FHIR R4 allows absolute literal
references and bulk exports use them. Over the real app and database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from tests import factories
from tests.web.chat import START

BASE = "https://ehr.example.org/fhir/R4"


async def test_absolute_and_versioned_references_name_the_patient(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict, org: Any
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"], external_id="mrn-41")
    request = {
        "resourceType": "MedicationRequest",
        "id": "rx-41",
        "status": "active",
        "subject": {"reference": f"{BASE}/Patient/mrn-41/_history/3"},
        "medicationCodeableConcept": {"text": "Lisinopril"},
        "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 1,
                                                      "periodUnit": "d"}}}],
    }  # fmt: skip
    imported = await web.post("/api/v1/fhir/MedicationRequest", json=request, headers=auth)
    assert imported.status_code == 201, imported.text
    assert imported.json()["patient_id"] == str(patient["id"])

    appointment = {
        "resourceType": "Appointment",
        "id": "ap-41",
        "status": "booked",
        "start": (START + timedelta(days=3)).isoformat(),
        "minutesDuration": 20,
        "participant": [
            {"actor": {"reference": f"{BASE}/Practitioner/9", "display": "Dr. Ruiz"}},
            {"actor": {"reference": f"{BASE}/Patient/{patient['id']}"}},
        ],
    }
    booked = await web.post("/api/v1/fhir/Appointment", json=appointment, headers=auth)
    assert booked.status_code == 201, booked.text
    assert booked.json()["patient_id"] == str(patient["id"])
    assert booked.json()["clinician_name"] == "Dr. Ruiz"

    other = request | {"id": "rx-42", "subject": {"reference": "urn:uuid:5f1d"}}
    refused = await web.post("/api/v1/fhir/MedicationRequest", json=other, headers=auth)
    assert refused.status_code == 422, refused.text
    assert "or <FHIR base>/Patient/<id>" in refused.json()["error"]["reason"]
