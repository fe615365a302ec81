"""The patient page's next message names a dose the clocks sprang over by the time it was set.

A dose set at 2:30 AM in New York, on the night the clocks go from 2:00 to 3:00 (14 March 2027):
the planner fires it at 3:00 and the reminder says "Time for your 2:30 AM dose"
(core/dose_times.py), but the dashboard's preview of the patient's next message said "3:00 AM",
a time the patient never set: the dashboard did not pass the set day and time (the row's
payload) to ``POST /api/v1/templates/preview``. Planned by the real planner at a fixed instant,
read by the dashboard as the signed-in clinician and rendered by ``medremind web``; headless
Chromium against ``next start`` (``dashboard/e2e/next-message-clock-change.e2e.mjs``, screenshot
``next-message-clock-change.png``). Skipped without node and chromium.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import asyncpg

from core.db import Database
from core.settings import Settings
from medremind.api_keys import create_api_key
from scheduler.planner import run_planner_tick
from tests import factories
from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)

PASSWORD = "correct horse battery spring"
# Sunday 14 March 2027 in New York: 2:00 EST becomes 3:00 EDT (07:00 UTC).
GAP_END = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)


async def test_the_preview_names_a_sprung_over_dose_by_its_set_time(
    database_url: str,
    admin_conn: asyncpg.Connection,
    db: Database,
    settings: Settings,
    tmp_path: Path,
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, "spring@clinic.test", PASSWORD, "Spring Clinic")
    org_id = uuid.UUID(clinic["organization_id"])
    patient = await factories.create_patient(
        admin_conn,
        org_id,
        contacts={"telegram": "551230099"},
        display_name="Ana",
        timezone="America/New_York",
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(2, 30),))
    assert db.pool is not None
    await run_planner_tick(db.pool, GAP_END - timedelta(hours=2), settings)
    planned = await admin_conn.fetchrow(
        "select scheduled_time, payload ->> 'local_time' as local_time from scheduled_messages"
        " where patient_id = $1 and status = 'pending' order by scheduled_time limit 1",
        patient["id"],
    )
    assert (planned["scheduled_time"], planned["local_time"]) == (GAP_END, "02:30")
    api_key = await create_api_key(db.pool, clinic["organization_id"], "dashboard e2e")

    run = run_dashboard_script(
        "next-message-clock-change.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        next_env={"MEDREMIND_API_KEY": api_key},
        script_env={
            "CLINICIAN_EMAIL": "spring@clinic.test",
            "CLINICIAN_PASSWORD": PASSWORD,
            "PATIENT_ID": str(patient["id"]),
        },
    )
    text = run.result["text"].replace("\u202f", " ")
    assert text == "Hi Ana. Time for your 2:30 AM dose.", run.result
    assert "built-in text" in run.result["source"], run.result
    assert (SCREENSHOTS / "next-message-clock-change.png").stat().st_size > 5_000
