"""``/api/v1`` patients, invite links and the FHIR MedicationRequest import."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from scheduler.planning_rules import CLINIC_PAUSE_REASON
from tests.factories import create_dose_event, create_medication, create_message, create_patient
from tests.web.conftest import count


def _patient_body(**overrides):
    return {
        "display_name": "Maria Lopez",
        "phone": "+14155550123",
        "email": "maria@example.org",
        "timezone": "America/Los_Angeles",
        "locale": "es",
        "channel_order": ["whatsapp", "sms", "email"],
        "external_id": "MRN-1",
        "consent": True,
    } | overrides


async def test_create_and_get_patient(client, admin_conn, auth):
    response = await client.post("/api/v1/patients", json=_patient_body(), headers=auth)
    assert response.status_code == 201, response.text
    patient = response.json()
    assert (patient["timezone"], patient["locale"], patient["status"]) == (
        "America/Los_Angeles",
        "es",
        "active",
    )
    assert patient["channel_order"] == ["whatsapp", "sms", "email"]
    assert sorted((c["channel"], c["address"]) for c in patient["contacts"]) == [
        ("email", "maria@example.org"),
        ("sms", "+14155550123"),
        ("whatsapp", "+14155550123"),
    ]
    got = await client.get(f"/api/v1/patients/{patient['id']}", headers=auth)
    # The create's answer adds its warnings (none here: every address is the patient's own).
    assert patient.pop("warnings") == []
    assert got.status_code == 200 and got.json() == patient
    # Defaults come from the organization (Europe/Berlin) when not given.
    minimal = await client.post("/api/v1/patients", json={}, headers=auth)
    assert minimal.status_code == 201
    assert minimal.json()["timezone"] == "Europe/Berlin"
    assert minimal.json()["status"] == "invited"


async def test_patient_validation_names_the_field(client, admin_conn, auth):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"phone": "4155550123"}, "phone"),
        ({"phone": "+1 415 555 0123"}, "phone"),
        ({"phone": "+1999"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "CET "}, "timezone"),
        ({"locale": "english!"}, "locale"),
        ({"channel_order": []}, "channel_order"),
        ({"channel_order": ["sms", "fax"]}, "channel_order[1]"),
        ({"channel_order": ["sms", "sms"]}, "channel_order[1]"),
        ({"display_name": "x" * 201}, "display_name"),
        ({"consent": "yes"}, "consent"),
        ({"ssn": "123"}, "ssn"),
    ]
    for change, field in cases:
        response = await client.post("/api/v1/patients", json=_patient_body(**change), headers=auth)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field, change
    assert await count(admin_conn, "patients") == 0


async def test_duplicate_external_id_is_409_and_a_taken_phone_answers_as_a_new_one(
    client, admin_conn, auth
):
    assert (
        await client.post("/api/v1/patients", json=_patient_body(), headers=auth)
    ).status_code == 201
    same_id = await client.post(
        "/api/v1/patients", json=_patient_body(phone="+14155550199", email=None), headers=auth
    )
    assert same_id.status_code == 409 and same_id.json()["error"]["field"] == "external_id"
    same_phone = await client.post(
        "/api/v1/patients", json=_patient_body(external_id="MRN-2", email=None), headers=auth
    )
    # No existence oracle (issue 15 item 7): created, the number stays with its owner.
    assert same_phone.status_code == 201
    contacts = same_phone.json()["contacts"]
    assert sorted((c["channel"], c["address"]) for c in contacts) == [
        ("sms", "+14155550123"),
        ("whatsapp", "+14155550123"),
    ]
    assert await count(admin_conn, "patients") == 2
    assert await count(admin_conn, "contact_points") == 3  # all the first patient's


async def test_invite_link_token_is_stored_hashed(client, admin_conn, patient, auth, other_auth):
    response = await client.post(
        f"/api/v1/patients/{patient['id']}/invites", json={"expires_in_hours": 48}, headers=auth
    )
    assert response.status_code == 201, response.text
    invite = response.json()
    token = invite["token"]
    assert invite["link"] == f"https://t.me/medremind_test_bot?start={token}"
    assert len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()
    row = await admin_conn.fetchrow(
        "select token_hash, expires_at, patient_id from patient_invites"
    )
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert row["patient_id"] == patient["id"]
    # No body at all is fine too (a week by default).
    assert (
        await client.post(f"/api/v1/patients/{patient['id']}/invites", headers=auth)
    ).status_code == 201
    # Another organization can neither read the patient nor invite them.
    assert (
        await client.get(f"/api/v1/patients/{patient['id']}", headers=other_auth)
    ).status_code == 404
    response = await client.post(f"/api/v1/patients/{patient['id']}/invites", headers=other_auth)
    assert response.status_code == 404
    assert await count(admin_conn, "patient_invites") == 2
    bad = await client.post(
        f"/api/v1/patients/{patient['id']}/invites", json={"expires_in_hours": 0}, headers=auth
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "expires_in_hours"


def _medication_request(patient_ref: str, timing: dict, name: str = "Lisinopril 10 mg") -> dict:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": patient_ref},
        "medicationCodeableConcept": {"text": name},
        "dosageInstruction": [
            {
                "timing": timing,
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
            }
        ],
    }


async def test_fhir_medication_request_becomes_a_schedule(client, admin_conn, patient, auth):
    timing = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "timeOfDay": ["09:00:00"]}}
    response = await client.post(
        "/api/v1/fhir/MedicationRequest",
        json=_medication_request(f"Patient/{patient['id']}", timing),
        headers={**auth, "content-type": "application/fhir+json"},
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["schedule"]["times_of_day"] == ["09:00:00"]
    medication = await admin_conn.fetchrow("select * from medications")
    assert (medication["name"], medication["dose"]) == ("Lisinopril 10 mg", "1 tablet")
    schedule = await admin_conn.fetchrow("select * from reminder_schedules")
    assert str(schedule["id"]) == result["schedule_id"]
    assert [t.isoformat() for t in schedule["times_of_day"]] == ["09:00:00"]
    assert schedule["fhir_timing"] == timing


async def test_fhir_medication_request_by_external_id_and_bid_code(client, admin_conn, org, auth):
    await create_patient(admin_conn, org["id"], external_id="MRN-77")
    timing = {"code": {"coding": [{"code": "BID"}]}}
    resource = _medication_request("Patient/MRN-77", timing)
    resource["dosageInstruction"] *= 2  # a copy of the one dosage instruction says nothing more
    response = await client.post("/api/v1/fhir/MedicationRequest", json=resource, headers=auth)
    assert response.status_code == 201, response.text
    assert len(response.json()["schedule"]["times_of_day"]) == 2


def _two_dosages(ref: str) -> dict:
    evening = {
        "repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "timeOfDay": ["20:00:00"]}
    }
    resource = _medication_request(
        ref, {"repeat": {**evening["repeat"], "timeOfDay": ["08:00:00"]}}
    )
    second = {"timing": evening, "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet"}}]}
    resource["dosageInstruction"].append(second)
    return resource


async def test_fhir_medication_request_errors_name_the_element(
    client, admin_conn, patient, auth, other_org, other_auth
):
    ref = f"Patient/{patient['id']}"
    good = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    cases = [
        ({**_medication_request(ref, good), "resourceType": "Patient"}, "resourceType"),
        (_medication_request("Patient/" + str(uuid.uuid4()), good), "subject.reference"),
        (_medication_request("Group/1", good), "subject.reference"),
        (_medication_request(ref, good, name=""), "medicationCodeableConcept.text"),
        ({**_medication_request(ref, good), "dosageInstruction": []}, "dosageInstruction"),
        (
            _medication_request(ref, {"repeat": {"frequency": 1, "period": 1, "periodUnit": "mo"}}),
            "dosageInstruction[0].timing.repeat.periodUnit",
        ),
        # 1 tablet at 08:00 and 2 at 20:00: the second was dropped, and never reminded.
        (_two_dosages(ref), "dosageInstruction[1]"),
    ]
    for resource, field in cases:
        response = await client.post("/api/v1/fhir/MedicationRequest", json=resource, headers=auth)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["field"] == field
    assert "send one MedicationRequest per dosage instruction" in response.json()["error"]["reason"]
    # Another organization cannot attach a medication to our patient.
    response = await client.post(
        "/api/v1/fhir/MedicationRequest", json=_medication_request(ref, good), headers=other_auth
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "subject.reference"
    assert await count(admin_conn, "medications") == 0
    assert await count(admin_conn, "reminder_schedules") == 0


async def test_a_nul_in_a_query_parameter_is_a_422_naming_it(client, patient, auth):
    """PostgreSQL's text holds no NUL: a search for one was sent to the database and answered
    500 (`GET /patients?q=%00`, found in `medremind dev`); like a NUL in a body, it is refused."""
    for params in ({"q": "a\x00"}, {"q": "\x00", "limit": "5"}):
        response = await client.get("/api/v1/patients", params=params, headers=auth)
        assert response.status_code == 422, (params, response.text)
        error = response.json()["error"]
        assert error["field"] == "q"
        assert error["reason"] == "must not contain NUL characters"
    found = await client.get("/api/v1/patients", params={"q": "a"}, headers=auth)
    assert found.status_code == 200, found.text


async def test_a_fixed_offset_named_like_a_region_is_refused(client, admin_conn, auth):
    """tzdata's EST and MST are fixed offsets with no summer time: a patient created with EST
    for New York got every reminder an hour late from March to November (the bot refuses the
    abbreviation too). The 422 names the zone to use; a location zone with no summer time is
    still taken as it is."""
    for zone, hint in (("EST", "America/New_York"), ("MST", "America/Denver")):
        response = await client.post(
            "/api/v1/patients", json=_patient_body(timezone=zone), headers=auth
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["field"] == "timezone"
        assert "no summer time" in error["reason"] and hint in error["reason"], error
    assert await count(admin_conn, "patients") == 0
    for zone in ("America/Panama", "America/Phoenix", "UTC"):
        body = _patient_body(timezone=zone, external_id=zone, phone=None, email=None)
        response = await client.post("/api/v1/patients", json=body, headers=auth)
        assert response.status_code == 201, response.text


async def test_a_zone_file_that_is_no_iana_zone_is_refused(client, admin_conn, auth):
    """ "localtime", "posixrules", "posix/..." and "right/..." are files Python opens as zones
    but PostgreSQL knows no such zone: a patient created with one was planned and sent to, and
    every statement converting a time in their zone failed (the attack run of 2026-12-05)."""
    for zone in ("localtime", "posixrules", "posix/Europe/Madrid", "right/UTC"):
        response = await client.post(
            "/api/v1/patients", json=_patient_body(timezone=zone), headers=auth
        )
        assert response.status_code == 422, (zone, response.text)
        error = response.json()["error"]
        assert error["field"] == "timezone", error
        assert "IANA" in error["reason"], error
    assert await count(admin_conn, "patients") == 0


async def test_an_operation_without_query_parameters_refuses_one(client, admin_conn, patient, auth):
    """`GET /waitlist?status=waiting` answered the whole waitlist (200), as if it had been
    filtered; an operation that takes no query parameter says so on the first one given."""
    await admin_conn.execute(
        "insert into waitlist_entries (organization_id, patient_id) values ($1, $2)",
        patient["organization_id"],
        patient["id"],
    )
    for path in ("/api/v1/waitlist", "/api/v1/clinic"):
        response = await client.get(path, params={"status": "waiting"}, headers=auth)
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert error["field"] == "status"
        assert error["reason"] == "unknown query parameter; this operation takes none"
        assert (await client.get(path, headers=auth)).status_code == 200


async def test_an_invalid_phone_number_says_what_is_wrong_with_it(client, admin_conn, auth):
    """It said only "is not a valid phone number" (found by hand: +15551230001, a 555 number
    no one has): now which part, and what a valid one looks like."""
    cases = {
        "+15551230001": "no number in use under country code +1 has these digits (check them)",
        "+1201555": "too few digits for country code +1",
        "+120155501234567": "too many digits for country code +1",
    }
    for phone, detail in cases.items():
        response = await client.post(
            "/api/v1/patients", json=_patient_body(phone=phone, email=None), headers=auth
        )
        assert response.status_code == 422, (phone, response.text)
        error = response.json()["error"]
        assert error["field"] == "phone"
        assert error["reason"] == f"is not a valid phone number: {detail}; for example +14155550123"


PENDING_REMINDERS = (
    "select count(*) from scheduled_messages where patient_id = $1 and status = 'pending'"
    " and kind = 'medication_reminder'"
)


async def test_a_clinic_pauses_and_resumes_a_patient(client, admin_conn, auth):
    """A clinic's system sees the patient's pause and its end ("pause for 3 days" in the bot:
    scheduler/pause_ends.py) and sets them the way it sets the patient's other fields (PATCH):
    the same pause as the bot's /pause (the pending reminder withdrawn) and /resume (the
    reminder back, the end gone). A pause that would end before now, a time without its UTC
    offset, an end with a resume or without a pause are refused, naming the field and the fix."""
    created = await client.post("/api/v1/patients", json=_patient_body(), headers=auth)
    patient_id = created.json()["id"]
    path = f"/api/v1/patients/{patient_id}"
    assert (created.json()["reminders_paused"], created.json()["reminders_paused_until"]) == (
        False,
        None,
    )
    _, schedule = await create_medication(admin_conn, uuid.UUID(patient_id))
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    dose = await create_dose_event(admin_conn, schedule, soon)
    reminder = await create_message(
        admin_conn,
        uuid.UUID(patient_id),
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=soon,
    )
    status = "select status, last_error from scheduled_messages where id = $1"

    for body, reason in [
        ({"reminders_paused": True, "reminders_paused_until": "2020-03-31T19:00:00Z"}, "is not in"),
        ({"reminders_paused": True, "reminders_paused_until": "2099-03-31T19:00:00"}, "UTC offset"),
        ({"reminders_paused": False, "reminders_paused_until": "2099-03-31T19:00:00Z"}, "resume"),
        ({"reminders_paused_until": "2099-03-31T19:00:00Z"}, "are not paused: send"),
    ]:
        refused = await client.patch(path, json=body, headers=auth)
        assert refused.status_code == 422, (body, refused.text)
        error = refused.json()["error"]
        assert error["field"] == "reminders_paused_until" and reason in error["reason"], error
    for body in ({"reminders_paused": None}, {"reminders_paused": "yes"}):
        refused = await client.patch(path, json=body, headers=auth)
        assert refused.json()["error"]["field"] == "reminders_paused", refused.text
    assert tuple(await admin_conn.fetchrow(status, reminder["id"])) == ("pending", None)

    end = "2099-03-31T19:00:00Z"
    paused = await client.patch(
        path, json={"reminders_paused": True, "reminders_paused_until": end}, headers=auth
    )
    assert paused.status_code == 200, paused.text
    assert (paused.json()["reminders_paused"], paused.json()["reminders_paused_until"]) == (
        True,
        end,
    )
    # Withdrawn saying who paused: the clinic, not "paused by the patient".
    assert tuple(await admin_conn.fetchrow(status, reminder["id"])) == (
        "cancelled",
        CLINIC_PAUSE_REASON,
    )
    assert await admin_conn.fetchval(PENDING_REMINDERS, uuid.UUID(patient_id)) == 0
    got = (await client.get(path, headers=auth)).json()
    assert got == paused.json()
    listed = (await client.get("/api/v1/patients", headers=auth)).json()
    [mine] = [p for p in listed["data"] if p["id"] == patient_id]
    assert mine["reminders_paused_until"] == end
    # true again keeps the end; a null end keeps the pause, open until a resume.
    again = await client.patch(path, json={"reminders_paused": True}, headers=auth)
    assert again.json()["reminders_paused_until"] == end
    opened = await client.patch(path, json={"reminders_paused_until": None}, headers=auth)
    assert (opened.json()["reminders_paused"], opened.json()["reminders_paused_until"]) == (
        True,
        None,
    )

    resumed = await client.patch(path, json={"reminders_paused": False}, headers=auth)
    assert (resumed.json()["reminders_paused"], resumed.json()["reminders_paused_until"]) == (
        False,
        None,
    )
    # As after /resume: reminders planned from now on (the dose ahead went with the pause).
    assert await admin_conn.fetchval(PENDING_REMINDERS, uuid.UUID(patient_id)) > 0
