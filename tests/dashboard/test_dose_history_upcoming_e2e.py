"""A patient's dose history shows doses not due yet as upcoming, not as due, in headless Chromium
against ``next start`` and a real ``medremind web`` on a fresh database.

Found by hand on a running dashboard: the history lists doses up to a day ahead, and the next
day's doses read "due" like a dose whose time has passed without an answer; a clinician reading
adherence took them for unanswered doses. The doses are placed relative to the database's clock
(hours before and after now), so the test does not depend on the time of day; the patient's
zone is far from UTC so that "later today" and "tomorrow" differ from the server's day. The
browser script is ``dashboard/e2e/dose-history-upcoming.e2e.mjs`` (screenshot
``patient-dose-history-upcoming.png``). Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_medication, create_patient

ZONE = "Pacific/Auckland"
# Medicine name -> (hours from now, status stored): one dose per medicine, so rows are told apart.
DOSES = {
    "Answered Earlier": (-26, "taken"),
    "Unanswered Earlier": (-3, "due"),
    "In Two Hours": (2, "due"),
    "In Twenty Hours": (20, "due"),
}


async def test_doses_not_due_yet_read_upcoming(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "upcoming")
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Dose Times", timezone=ZONE
    )
    for name, (hours, status) in DOSES.items():
        _, schedule = await create_medication(admin_conn, patient["id"], name=name)
        await admin_conn.execute(
            """insert into dose_events (schedule_id, medication_id, patient_id, due_at,
                                        local_date, local_time, status, answered_at)
               select s.id, s.medication_id, s.patient_id, d.due_at,
                      (d.due_at at time zone $3)::date, (d.due_at at time zone $3)::time, $4,
                      case when $4 = 'taken' then d.due_at end
                 from reminder_schedules s,
                      lateral (select now() + make_interval(hours => $2) as due_at) d
                where s.id = $1""",
            schedule["id"],
            hours,
            ZONE,
            status,
        )

    result = run_dashboard_script(
        "dose-history-upcoming.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "PATIENT_ID": str(patient["id"])},
    ).result

    statuses: dict[str, set[str]] = {}
    for row in result["rows"]:
        statuses.setdefault(row["medication"], set()).add(row["status"])
    assert statuses["In Two Hours"] == {"upcoming"}, result
    assert statuses["In Twenty Hours"] == {"upcoming"}, result
    # Doses whose time has passed keep their status: unanswered reads due, answered taken.
    assert statuses["Unanswered Earlier"] == {"due"}, result
    assert statuses["Answered Earlier"] == {"taken"}, result
