"""A time in year 9999 typed into Move, New appointment and Compose, in headless Chromium against
``next start`` and a real ``medremind web`` on a fresh database.

Found by hand (session 29, ``medremind dev``): Move took 9999-12-31 23:59 (a datetime-local field
takes years up to 275760; the API refuses them past 9998) and stored it; from then on the
Appointments page of the whole clinic answered "Something went wrong" (the appointment's end, in
year 10000, is no date JavaScript reads). Now the three forms refuse a time outside the years
1970 to 9998, as the API does, naming the field, and nothing is written. Browser script
``dashboard/e2e/far-dates.e2e.mjs``. Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient

YEARS = "in the years 1970 to 9998"


async def test_a_time_in_year_9999_is_refused_by_each_form(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "fardates")
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Fay Far", contacts={"sms": "+14155550172"}
    )
    appointment = await admin_conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, date_trunc('hour', now()) + interval '2 days') returning id, starts_at",
        clinic.org_id,
        patient["id"],
    )

    result = run_dashboard_script(
        "far-dates.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "PATIENT_NAME": "Fay Far"},
    ).result

    assert result["move"].startswith("New time:") and YEARS in result["move"], result
    assert result["page_after"] == "Appointments", result
    assert result["create"].startswith("Starts at:") and YEARS in result["create"], result
    assert result["compose"].startswith("Date and time:") and YEARS in result["compose"], result
    assert (
        await admin_conn.fetchval(
            "select starts_at from appointments where id = $1", appointment["id"]
        )
        == appointment["starts_at"]
    )
    assert (
        await admin_conn.fetchval(
            "select count(*) from appointments where patient_id = $1", patient["id"]
        )
        == 1
    )
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where patient_id = $1 and kind = 'free_text'",
            patient["id"],
        )
        == 0
    )
