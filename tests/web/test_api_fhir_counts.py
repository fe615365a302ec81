"""FHIR ``MedicationRequest`` imports with the largest counts and periods an integrator may send.

``Timing.repeat.count`` 2147483647 from the year 1000 cost a quarter of a minute of CPU in the
web process, every other request waiting (the schedule's last dose was found by walking every
date from its start, and planned at once); one more, or a period of 99999999999 days or weeks,
answered 500 (PostgreSQL's integer columns could not hold it).
"""

from __future__ import annotations

import time as clock

from tests.web.conftest import count
from tests.web.test_api_patients_fhir import _medication_request

PATH = "/api/v1/fhir/MedicationRequest"
TIMING = "dosageInstruction[0].timing.repeat"
INT4_MAX = 2_147_483_647
# The import itself is milliseconds; the walk took 15-30 s of CPU on the machines we use.
CPU_BUDGET_SECONDS = 2.0


def _daily(**repeat: object) -> dict:
    return {
        "repeat": {
            "frequency": 1,
            "period": 1,
            "periodUnit": "d",
            "timeOfDay": ["08:00:00"],
            **repeat,
        }
    }


async def test_the_largest_count_from_the_year_1000_is_imported_at_once(
    client, admin_conn, patient, auth
):
    timing = _daily(count=INT4_MAX, boundsPeriod={"start": "1000-01-01"})
    started = clock.process_time()
    response = await client.post(
        PATH, json=_medication_request(f"Patient/{patient['id']}", timing), headers=auth
    )
    spent = clock.process_time() - started
    assert response.status_code == 201, response.text
    assert response.json()["schedule"]["max_count"] == INT4_MAX
    assert spent < CPU_BUDGET_SECONDS, f"{spent:.1f} s of CPU for one import"
    assert await count(admin_conn, "reminder_schedules") == 1


async def test_a_count_or_a_period_no_schedule_can_hold_is_a_422_naming_it(
    client, admin_conn, patient, auth
):
    ref = f"Patient/{patient['id']}"
    cases = [
        (_daily(count=INT4_MAX + 1), f"{TIMING}.count", "at most 2147483647 doses"),
        (_daily(period=99_999_999_999), f"{TIMING}.period", "at most 2147483647 days"),
        (_daily(period=1e300), f"{TIMING}.period", "at most 2147483647 days"),
        (
            {"repeat": {"frequency": 1, "period": 99_999_999_999, "periodUnit": "wk"}},
            f"{TIMING}.period",
            "at most 2147483647 days",
        ),
    ]
    for timing, field, reason in cases:
        response = await client.post(PATH, json=_medication_request(ref, timing), headers=auth)
        assert response.status_code == 422, (timing, response.text)
        error = response.json()["error"]
        assert (error["field"], reason in error["reason"]) == (field, True), error
    assert await count(admin_conn, "reminder_schedules") == 0
