"""Cancelling an appointment on the dashboard asks first, in headless Chromium against
``next start`` and a real ``medremind web`` on a fresh database.

Found using the Appointments page in medremind dev: one click on Cancel in its table cancelled the
appointment at once, and the planner told the patient within a minute; nothing undoes it. Now
Cancel asks, naming the patient and the time, and only "Yes, cancel it" cancels; keyboard only
works (Enter on Cancel focuses Yes; Keep it returns focus to Cancel). The browser script is
``dashboard/e2e/appointment-cancel.e2e.mjs`` (screenshot ``appointment-cancel-asks.png``).
Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_cancelling_an_appointment_asks_first(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "cancel")
    org_id = clinic.org_id
    patient = await create_patient(
        admin_conn, org_id, display_name="Carla Cancel", contacts={"sms": "+14155550171"}
    )
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at, location)"
        " values ($1, $2, date_trunc('hour', now()) + interval '2 days', 'Room 3') returning id",
        org_id,
        patient["id"],
    )

    result = run_dashboard_script(
        "appointment-cancel.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.nurse_env,
            "PATIENT_NAME": "Carla Cancel",
        },
    ).result

    assert result["status_after_one_click"] == "scheduled", result
    assert result["question"].startswith("Cancel Carla Cancel's appointment of "), result
    assert result["question"].endswith(
        "The patient is told within a minute, as their settings allow; this cannot be undone."
    ), result
    assert result["focus_on_question"] == "Yes, cancel it", result
    assert (result["focus_after_keep"], result["status_after_keep"]) == ("Cancel", "scheduled")
    assert result["status_after_yes"] == "cancelled"
    assert (
        await admin_conn.fetchval("select status from appointments where id = $1", appointment)
        == "cancelled"
    )
