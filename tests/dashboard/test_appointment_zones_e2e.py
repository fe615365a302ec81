"""Appointment times on the clinician dashboard when a patient lives in another zone.

A clinic in Madrid: its appointment times stay in Madrid's zone (where the visit is), and under
each one the clinician sees the patient's own time where the patient's zone shows another wall
clock then: "patient's time: 03:00 (America/New_York)", with the date when it is another day
there (the weeks of March when New York is 5 hours behind Madrid, not 6, included). A patient
in Paris (the same offset) gets no such line. Headless Chromium against ``next start`` and
``medremind web``; the browser script is ``dashboard/e2e/appointment-zones.e2e.mjs``, which
saves ``appointment-zones-<patient>.png``. Skipped without node and chromium, like the dashboard
e2e.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient

PASSWORD = "correct horse battery zones"
# 09:00 CET on 17 March 2027 (04:00 EDT), 00:30 CET on the 18th (19:30 EDT on the 17th) and
# 09:00 CEST on 29 March (03:00 EDT): fixed instants, listed whatever the day the suite runs.
STARTS = (
    datetime(2027, 3, 17, 8, 0, tzinfo=UTC),
    datetime(2027, 3, 17, 23, 30, tzinfo=UTC),
    datetime(2027, 3, 29, 7, 0, tzinfo=UTC),
)


async def _patient_with_appointments(
    conn: asyncpg.Connection, org_id: uuid.UUID, name: str, zone: str
) -> uuid.UUID:
    patient = await create_patient(conn, org_id, display_name=name, timezone=zone)
    for at in STARTS:
        await conn.execute(
            "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)",
            org_id,
            patient["id"],
            at,
        )
    patient_id: uuid.UUID = patient["id"]
    return patient_id


async def test_the_clinician_sees_the_clinics_time_and_the_patients_own(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, "zones@clinic.test", PASSWORD, "Clínica Sol")
    org_id = uuid.UUID(clinic["organization_id"])
    await admin_conn.execute(
        "update organizations set timezone = 'Europe/Madrid' where id = $1", org_id
    )
    patients = {
        "new-york": await _patient_with_appointments(
            admin_conn, org_id, "Nora York", "America/New_York"
        ),
        "paris": await _patient_with_appointments(admin_conn, org_id, "Paul Paris", "Europe/Paris"),
    }
    run = run_dashboard_script(
        "appointment-zones.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": "zones@clinic.test",
            "CLINICIAN_PASSWORD": PASSWORD,
            "PATIENTS": json.dumps({k: str(v) for k, v in patients.items()}),
        },
    )
    york, paris = run.result["new-york"], run.result["paris"]
    assert [" ".join(w.split()) for w in york["when"]] == [
        "17 Mar 2027, 09:00 · 30 min patient's time: 04:00 (America/New_York)",
        "18 Mar 2027, 00:30 · 30 min patient's time: 17 Mar, 19:30 (America/New_York)",
        "29 Mar 2027, 09:00 · 30 min patient's time: 03:00 (America/New_York)",
    ], york
    assert [" ".join(w.split()) for w in paris["when"]] == [
        "17 Mar 2027, 09:00 · 30 min",
        "18 Mar 2027, 00:30 · 30 min",
        "29 Mar 2027, 09:00 · 30 min",
    ], paris
    # The patient's page says which clock its lists are in when the zones differ: the dose
    # history and the next message in the patient's, the messages in the clinic's (unlabelled,
    # one reminder read "6 Dec, 00:10" in one and "5 Dec, 08:10" in the other).
    assert york["captions"] == {
        "next": ["Times in the patient's zone, America/New_York"],
        "messages": ["Times in your clinic's zone, Europe/Madrid"],
        "doses": ["Times in the patient's zone, America/New_York"],
    }, york
    # The New appointment form says the patient's time of the start as it is typed: 09:00 in
    # Madrid on 20 March 2027 is 04:00 in New York (the US has changed clocks, Spain not yet);
    # nothing for Paris, whose clock is Madrid's.
    assert york["formNoteBefore"] is not None and "(America/New_York)" in york["formNoteBefore"]
    assert york["formNoteTyped"] == "patient's time: 04:00 (America/New_York)", york
    assert paris["formNoteBefore"] is None and paris["formNoteTyped"] is None, paris
    assert all("patient's time: " in line for line in york["patientPage"]), york
    assert not any("patient's time" in line for line in paris["patientPage"]), paris
    for label in patients:
        assert (SCREENSHOTS / f"appointment-zones-{label}.png").stat().st_size > 10_000
