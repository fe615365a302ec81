"""FHIR MedicationRequest: a schedule's start and end dates lie in the accepted range.

``boundsPeriod.start`` 0001-01-01 was stored as ``-infinity`` (asyncpg writes ``date.min`` so, and
``date.max`` as ``infinity``) and the dashboard showed "from -infinity" (found by hand over the
API). A date outside 1900-01-01..9998-12-31 is a 422 naming the element and the range.
"""

from __future__ import annotations

from datetime import date

from tests.factories import create_patient
from tests.web.conftest import count
from tests.web.test_api_patients_fhir import _medication_request

_PATH = "dosageInstruction[0].timing.repeat."


def _daily(**repeat: object) -> dict:
    return {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", **repeat}}


async def test_a_date_outside_the_range_is_a_422_naming_the_element(
    client, admin_conn, org, patient, auth
):
    ref = f"Patient/{patient['id']}"
    cases = [
        ({"start": "0001-01-01"}, "boundsPeriod.start"),
        ({"start": "1899-12-31"}, "boundsPeriod.start"),
        ({"start": "0001-01-01T00:00:00Z"}, "boundsPeriod.start"),
        ({"start": "9999-12-31"}, "boundsPeriod.start"),
        ({"start": "2026-01-01", "end": "9999-12-31"}, "boundsPeriod.end"),
    ]
    for period, element in cases:
        resource = _medication_request(ref, _daily(boundsPeriod=period))
        response = await client.post("/api/v1/fhir/MedicationRequest", json=resource, headers=auth)
        assert response.status_code == 422, (period, response.text)
        error = response.json()["error"]
        assert error["field"] == _PATH + element, period
        assert "1900-01-01" in error["reason"] and "9998-12-31" in error["reason"], error
    # A dateTime of the year 1 is a date before the year 1 in a zone west of UTC (a 500).
    west = await create_patient(admin_conn, org["id"], timezone="America/Los_Angeles")
    timing = _daily(boundsPeriod={"start": "0001-01-01T00:00:00Z"})
    resource = _medication_request(f"Patient/{west['id']}", timing)
    response = await client.post("/api/v1/fhir/MedicationRequest", json=resource, headers=auth)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == _PATH + "boundsPeriod.start"
    assert await count(admin_conn, "reminder_schedules") == 0


async def test_a_duration_past_the_range_names_the_duration(client, admin_conn, patient, auth):
    ref = f"Patient/{patient['id']}"
    # boundsDuration counts from today (the clinic's clock); 3,000,000 days is past 9998-12-31.
    timing = _daily(boundsDuration={"value": 3_000_000, "code": "d"})
    response = await client.post(
        "/api/v1/fhir/MedicationRequest", json=_medication_request(ref, timing), headers=auth
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == _PATH + "boundsDuration.value"
    assert "9998-12-31" in error["reason"]
    assert await count(admin_conn, "reminder_schedules") == 0


async def test_the_first_and_last_accepted_dates_are_stored_as_given(
    client, admin_conn, patient, auth
):
    ref = f"Patient/{patient['id']}"
    timing = _daily(boundsPeriod={"start": "1900-01-01", "end": "9998-12-31"})
    response = await client.post(
        "/api/v1/fhir/MedicationRequest", json=_medication_request(ref, timing), headers=auth
    )
    assert response.status_code == 201, response.text
    assert response.json()["schedule"]["start_date"] == "1900-01-01"
    assert response.json()["schedule"]["end_date"] == "9998-12-31"
    row = await admin_conn.fetchrow("select start_date, end_date from reminder_schedules")
    assert (row["start_date"], row["end_date"]) == (date(1900, 1, 1), date(9998, 12, 31))
