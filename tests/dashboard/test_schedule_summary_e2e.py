"""A patient's reminder schedules on the clinician's patient page, in headless Chromium.

A course imported from a FHIR MedicationRequest with ``Timing.repeat.count`` 10 read
"08:00 · every day · from 2027-01-04 · active": nothing said that its reminders stop after ten
doses, and the clinician could believe the patient was still being reminded. A schedule on
Mondays and Thursdays of every third day read "Mon Thu", the interval left out. The browser
script is ``dashboard/e2e/schedule-summary.e2e.mjs`` (screenshot ``schedule-summary.png``).
Skipped without node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from pathlib import Path

import asyncpg

from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient

EMAIL = "dr.schedules@clinic.test"
PASSWORD = "correct horse battery schedules"
START = date(2027, 1, 4)  # a fixed date: the page shows it as stored, whatever today is


async def _medication(
    conn: asyncpg.Connection, patient_id: uuid.UUID, name: str, **schedule: object
) -> None:
    medication_id = await conn.fetchval(
        "insert into medications (patient_id, name) values ($1, $2) returning id", patient_id, name
    )
    await conn.execute(
        """insert into reminder_schedules (medication_id, patient_id, times_of_day, start_date,
                                           max_count, days_of_week, every_n_days)
           values ($1, $2, $3, $4, $5, $6, $7)""",
        medication_id,
        patient_id,
        [time(8, 0)],
        START,
        schedule.get("max_count"),
        schedule.get("days_of_week"),
        schedule.get("every_n_days"),
    )


async def test_a_counted_course_and_an_interval_on_weekdays_read_as_they_run(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, EMAIL, PASSWORD, "Schedule Clinic")
    patient = await create_patient(
        admin_conn, uuid.UUID(clinic["organization_id"]), display_name="Cora Course"
    )
    await _medication(admin_conn, patient["id"], "Amoxicillin", max_count=10)
    await _medication(admin_conn, patient["id"], "Bisoprolol", days_of_week=[1, 4], every_n_days=3)

    result = run_dashboard_script(
        "schedule-summary.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": EMAIL,
            "CLINICIAN_PASSWORD": PASSWORD,
            "PATIENT_ID": str(patient["id"]),
        },
    ).result

    assert result["schedules"] == [
        "08:00 · every day · from 2027-01-04 · 10 doses in all · active",
        "08:00 · every 3 days from the start, on Mon Thu only · from 2027-01-04 · active",
    ], result
