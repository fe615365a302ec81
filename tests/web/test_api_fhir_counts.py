"""FHIR ``MedicationRequest`` imports with the largest counts and periods an integrator may send.

``Timing.repeat.count`` 2147483647 from the year 1000 cost a quarter of a minute of CPU in the
web process, every other request waiting (the schedule's last dose was found by walking every
date from its start, and planned at once); one more, or a period of 99999999999 days or weeks,
answered 500 (PostgreSQL's integer columns could not hold it); so did a timeOfDay of 25 times
(the schedule's check holds 24 a day).
"""

from __future__ import annotations

from tests.web.conftest import count
from tests.web.test_api_patients_fhir import _medication_request

PATH = "/api/v1/fhir/MedicationRequest"
TIMING = "dosageInstruction[0].timing.repeat"
INT4_MAX = 2_147_483_647


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


async def test_the_largest_count_from_the_earliest_start_is_imported(
    client, admin_conn, patient, auth
):
    # Its end is computed (the walk it replaced held the process 15-30 s of CPU: the cost is
    # bounded in tests/unit/test_recurrence_count.py, and measured nowhere here: no timings in
    # tests). 1900-01-01 is the earliest start the API takes; the count runs past 9999.
    timing = _daily(count=INT4_MAX, boundsPeriod={"start": "1900-01-01"})
    response = await client.post(
        PATH, json=_medication_request(f"Patient/{patient['id']}", timing), headers=auth
    )
    assert response.status_code == 201, response.text
    assert response.json()["schedule"]["max_count"] == INT4_MAX
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


async def test_more_times_of_day_than_a_schedule_holds_is_a_422_naming_them(
    client, admin_conn, patient, auth
):
    # 24 a day (one an hour) is the most; a 25th time, or 5,000 to the microsecond, was a 500.
    hourly = [f"{h:02d}:00:00" for h in range(24)]
    for times in (
        [*hourly, "00:30:00"],
        [f"00:00:{s:02d}.{k:06d}" for s in range(60) for k in range(80)],
    ):
        timing = {"repeat": {"timeOfDay": times}}
        response = await client.post(
            PATH, json=_medication_request(f"Patient/{patient['id']}", timing), headers=auth
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["field"] == f"{TIMING}.timeOfDay", error
        assert f"{len(times)} different times" in error["reason"], error
        assert "more than 24 doses a day" in error["reason"], error
    assert await count(admin_conn, "reminder_schedules") == 0
    timing = {"repeat": {"timeOfDay": [*hourly, *hourly]}}  # the same 24 twice are 24
    response = await client.post(
        PATH, json=_medication_request(f"Patient/{patient['id']}", timing), headers=auth
    )
    assert response.status_code == 201, response.text


async def test_an_hourly_period_that_does_not_fit_a_day_is_named_as_written(client, patient, auth):
    # "every 10 h" was refused as "every 1 h does not fit a day evenly" (zeros stripped).
    for hours in (10, 20, 30):
        timing = {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}}
        response = await client.post(
            PATH, json=_medication_request(f"Patient/{patient['id']}", timing), headers=auth
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["field"] == f"{TIMING}.period", error
        assert error["reason"].startswith(f"every {hours} h does not fit a day evenly"), error
    # Under an hour in minutes: three an hour read "every 0.3333333333333333333333333333 h".
    for frequency, hours, every in ((3, 1, "20 minutes"), (18, 5, "16 min 40 s")):
        timing = {"repeat": {"frequency": frequency, "period": hours, "periodUnit": "h"}}
        response = await client.post(
            PATH, json=_medication_request(f"Patient/{patient['id']}", timing), headers=auth
        )
        assert response.status_code == 422, response.text
        assert f"every {every} " in response.json()["error"]["reason"], response.text
