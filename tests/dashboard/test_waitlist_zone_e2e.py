"""The waitlist's days and hours say they are the patient's, in headless Chromium against
``next start`` and a real ``medremind web`` on a fresh database.

Found by hand (medremind dev, a Berlin clinic with patients in New York and Tokyo): every other
time on the dashboard is the clinic's and says so, while the waitlist's From and Until, which
the planner matches in the patient's timezone (core/sql/waitlist.sql), said nothing, nor did
the list's Hours: 09:00-12:00 for a New York patient is 15:00-18:00 on the clinic's clock. Now
both hour fields are described by a hint naming the patient's timezone, and the list shows the
patient's zone when it is not the clinic's. The browser script is
``dashboard/e2e/waitlist-zone.e2e.mjs``. Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_the_waitlist_says_its_hours_are_the_patients(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "waiting")
    await admin_conn.execute(
        "update organizations set timezone = 'Europe/Berlin' where id = $1", clinic.org_id
    )
    await create_patient(
        admin_conn,
        clinic.org_id,
        display_name="Nora York",
        timezone="America/New_York",
        contacts={"sms": "+14155550195"},
    )

    result = run_dashboard_script(
        "waitlist-zone.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "PATIENT_NAME": "Nora York"},
    ).result

    assert result["from_hint"] == (
        "Days and hours are the patient's own, in their timezone (shown on their page),"
        " not the clinic's. Until before From is overnight, until then the next day (a day"
        " ticked is the night's first)."
    ), result
    # Refused before (migration 20260101019470): a night, the next day's hours named so.
    assert result["hours"] == "22:30–03:00 next day patient's time (America/New_York)", result
