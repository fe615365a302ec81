"""A dose's reminders name their medicine on the dashboard, in headless Chromium against
``next start`` and a real ``medremind web`` on a fresh database.

Found by hand (medremind dev): a patient with two medicines due at 08:00 had two rows reading
"medication reminder" at the same minute on Scheduled messages (the text is rendered when sent),
which looked like the same message twice, one to cancel. Now each reads "medication reminder ·
<medicine>", on the list and on the patient's page. A free-text message is shown as before.
The browser script is ``dashboard/e2e/messages-medicine.e2e.mjs``. Skipped without node and
chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_medication, create_message, create_patient


async def test_a_doses_reminders_name_their_medicine(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "medicines")
    org_id = clinic.org_id
    patient = await create_patient(
        admin_conn, org_id, display_name="Mira Two", contacts={"sms": "+14155550191"}
    )
    for name in ("Metformin", "Ramipril"):
        _, schedule = await create_medication(admin_conn, patient["id"], name=name)
        dose = await admin_conn.fetchval(
            "insert into dose_events (schedule_id, medication_id, patient_id, due_at, local_date,"
            " local_time) values ($1, $2, $3, date_trunc('hour', now()) + interval '1 day',"
            " current_date + 1, '08:00') returning id",
            schedule["id"],
            schedule["medication_id"],
            patient["id"],
        )
        await create_message(
            admin_conn,
            patient["id"],
            kind="medication_reminder",
            message_content=None,
            dose_event_id=dose,
            scheduled_time=await admin_conn.fetchval(
                "select due_at from dose_events where id = $1", dose
            ),
        )
    await create_message(admin_conn, patient["id"], message_content="Clinic news")
    # Found by hand too: an Arabic name before a Latin dose showed "850 · ميتفورمين mg".
    await create_medication(admin_conn, patient["id"], name="ميتفورمين", dose="850 mg")

    result = run_dashboard_script(
        "messages-medicine.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.nurse_env,
            "PATIENT_ID": str(patient["id"]),
        },
    ).result

    assert result["list"] == [
        "Clinic news",
        "medication reminder · Metformin",
        "medication reminder · Ramipril",
    ], result
    # "850" and "mg" side by side (a space apart), not split by the name.
    assert result["dose_gap"] is not None and 0 <= result["dose_gap"] < 12, result
    timeline = " ".join(result["timeline_all"])
    assert "medication reminder · Metformin · auto" in timeline, result
    assert "medication reminder · Ramipril · auto" in timeline, result
