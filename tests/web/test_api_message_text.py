"""``POST /api/v1/messages`` refuses a ``text`` the patient would read wrong, naming why and
what to send instead. Found over the API: "Hi {{ patient_name }}" was accepted and reached the
patient braces and all (a ``text`` is sent as it is), and a text of a zero-width space only was
sent as an empty message."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Hi {{ patient_name }}, see you tomorrow", "holds template markup ({{ patient_name }})"),
        ("Your code is {{1}}", "holds template markup ({{1}})"),
        ("{% if urgent %}Call us{% endif %}", "holds template markup ({% if urgent %})"),
        ("\u200b", "has no visible character"),
        ("\u200d\u2060 \u200e", "has no visible character"),
    ],
)
async def test_a_text_the_patient_would_read_wrong_is_refused(
    client: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    auth: dict[str, str],
    patient: Any,
    text: str,
    says: str,
) -> None:
    answer = await client.post(
        "/api/v1/messages", json={"patient_id": str(patient["id"]), "text": text}, headers=auth
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "text"
    assert says in error["reason"]
    if "markup" in says:
        assert "PUT /api/v1/templates/{name}" in error["reason"]
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 0


async def test_braces_and_plain_words_are_sent_as_written(
    client: httpx.AsyncClient, auth: dict[str, str], patient: Any
) -> None:
    for text in ("Bring {your card} and the form", "Hi Ana, see you at 10:00 {room 3}"):
        answer = await client.post(
            "/api/v1/messages",
            json={"patient_id": str(patient["id"]), "text": text},
            headers=auth,
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["text"] == text


def _medicine(patient: Any, name: str) -> dict[str, Any]:
    """A FHIR MedicationRequest for ``patient`` of the medicine ``name``, once a day."""
    return {
        "resourceType": "MedicationRequest",
        "subject": {"reference": f"Patient/{patient['id']}"},
        "medicationCodeableConcept": {"text": name},
        "dosageInstruction": [
            {"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}}
        ],
    }


async def test_a_clinic_place_or_medicine_that_shows_nothing_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], patient: Any
) -> None:
    """Found over the API: a clinic renamed "\u200b" was saved, and its reminders came from
    nobody; a place, a clinician and a FHIR medicine name were taken the same way."""
    invisible = "\u200b\u200c"
    answers = {
        "name": await client.patch("/api/v1/clinic", json={"name": invisible}, headers=auth),
        "location": await client.post(
            "/api/v1/appointments",
            json={
                "patient_id": str(patient["id"]),
                "starts_at": "2030-01-07T10:00:00Z",
                "location": invisible,
            },
            headers=auth,
        ),
        "medicationCodeableConcept.text": await client.post(
            "/api/v1/fhir/MedicationRequest", json=_medicine(patient, invisible), headers=auth
        ),
    }  # fmt: skip
    for field, answer in answers.items():
        assert answer.status_code == 422, (field, answer.text)
        error = answer.json()["error"]
        assert error["field"] == field and "has no visible character" in error["reason"], error


@pytest.mark.parametrize("breaker", ["\n", "\u2028", "\x07"], ids=["newline", "u2028", "bell"])
async def test_a_one_line_name_with_a_line_break_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], patient: Any, breaker: str
) -> None:
    """Found over the API: a clinic renamed "Sunrise<newline>Reply STOP to ..." was saved, and
    its patients' appointment SMS then carried a line that read as the message's own; a place, a
    clinician, a FHIR medicine and a template name took a line break the same way. Each is a
    422 naming the field and the character; right-to-left writing, emoji and accents stay."""
    broken = f"Sunrise{breaker}Clinic"
    answers = {
        "name": await client.patch("/api/v1/clinic", json={"name": broken}, headers=auth),
        "location": await client.post(
            "/api/v1/appointments",
            json={"patient_id": str(patient["id"]), "starts_at": "2030-01-07T10:00:00Z",
                  "location": broken},
            headers=auth,
        ),
        "clinician_name": await client.post(
            "/api/v1/appointments",
            json={"patient_id": str(patient["id"]), "starts_at": "2030-01-07T10:00:00Z",
                  "clinician_name": broken},
            headers=auth,
        ),
        "medicationCodeableConcept.text": await client.post(
            "/api/v1/fhir/MedicationRequest", json=_medicine(patient, broken), headers=auth
        ),
        # A FHIR Appointment's Location and Practitioner displays are its place and clinician.
        "participant[1].actor.display": await client.post(
            "/api/v1/fhir/Appointment",
            json={"resourceType": "Appointment", "status": "booked",
                  "start": "2030-01-08T10:00:00Z", "participant": [
                      {"actor": {"reference": f"Patient/{patient['id']}"}},
                      {"actor": {"reference": "Location/2", "display": broken}}]},
            headers=auth,
        ),
        "participant[2].actor.display": await client.post(
            "/api/v1/fhir/Appointment",
            json={"resourceType": "Appointment", "status": "booked",
                  "start": "2030-01-09T10:00:00Z", "participant": [
                      {"actor": {"reference": f"Patient/{patient['id']}"}},
                      {"actor": {"reference": "Location/2", "display": "West"}},
                      {"actor": {"reference": "Practitioner/7", "display": broken}}]},
            headers=auth,
        ),
        "template": await client.put(
            f"/api/v1/templates/{quote(broken)}",
            json={"kind": "free_text", "body": "Hello"},
            headers=auth,
        ),
    }  # fmt: skip
    for field, answer in answers.items():
        if field == "template" and breaker == "\n":
            # A line feed in a path matches no route ("." of the /api/v1 mount's pattern):
            # a 404, nothing stored.
            assert answer.status_code == 404, answer.text
            continue
        assert answer.status_code == 422, (field, answer.text)
        error = answer.json()["error"]
        expected = "name" if field == "template" else field
        assert error["field"] == expected, error
        assert f"U+{ord(breaker):04X}, character 8" in error["reason"], error
    fine = "\u0639\u064a\u0627\u062f\u0629 \u0627\u0644\u0634\u0641\u0627\u0621 \U0001f3e5 Cl\u00ednica"  # noqa: E501
    renamed = await client.patch("/api/v1/clinic", json={"name": fine}, headers=auth)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == fine


async def test_a_patient_name_or_dose_with_a_control_character_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], patient: Any
) -> None:
    """A patient's name and a FHIR dose are one line too (migration 20260101019030): BEL is a
    422 naming the field and the character, where the database's refusal was a 422 on the
    column alone; a line break is a space (an EHR's dosage text wraps)."""
    named = await client.patch(
        f"/api/v1/patients/{patient['id']}", json={"display_name": "Ana\x07"}, headers=auth
    )
    dosed = _medicine(patient, "Metformin")
    dosed["dosageInstruction"][0]["text"] = "1 tablet\x07"
    imported = await client.post("/api/v1/fhir/MedicationRequest", json=dosed, headers=auth)
    for field, answer in (("display_name", named), ("dosageInstruction[0].text", imported)):
        assert answer.status_code == 422, (field, answer.text)
        error = answer.json()["error"]
        assert error["field"] == field and "U+0007, character" in error["reason"], error
    dosed["dosageInstruction"][0]["text"] = "1 tablet\nwith food"
    imported = await client.post("/api/v1/fhir/MedicationRequest", json=dosed, headers=auth)
    assert imported.status_code == 201, imported.text
    assert imported.json()["dose"] == "1 tablet with food"
