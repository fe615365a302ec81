"""A patient stored in ``Etc/Unknown`` has a page that opens and says why nothing is planned.

``Factory`` was stored as ``Etc/Unknown`` before the API refused it. Such a patient's page in the
dashboard failed as a whole: PostgreSQL refuses the zone in the adherence query, and Intl in
every date it formats. Now the page opens, an alert says no reminder is planned for them and how
to set their zone, and its times are the clinic's. Headless Chromium against ``next start`` and
a real ``medremind web`` on a fresh database (``dashboard/e2e/zone-unknown.e2e.mjs``; screenshot
``zone-unknown.png``). Skipped without node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

import uuid
from datetime import time
from pathlib import Path

import asyncpg

from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_medication, create_patient

EMAIL = "dr.zones@clinic.test"
PASSWORD = "correct horse battery zones"


async def test_a_patient_in_an_unknown_zone_has_a_page_saying_why(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, EMAIL, PASSWORD, "Zone Clinic")
    org = uuid.UUID(clinic["organization_id"])
    lost = await create_patient(admin_conn, org, display_name="Luz Lost", timezone="Etc/Unknown")
    fine = await create_patient(admin_conn, org, display_name="Fina Fine", timezone="Europe/Madrid")
    for patient in (lost, fine):
        await create_medication(admin_conn, patient["id"], times=(time(9, 0),))

    result = run_dashboard_script(
        "zone-unknown.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": EMAIL,
            "CLINICIAN_PASSWORD": PASSWORD,
            "LOST_PATIENT_ID": str(lost["id"]),
            "FINE_PATIENT_ID": str(fine["id"]),
        },
    ).result

    assert result["lost"]["status"] == 200, result
    assert result["lost"]["heading"] == "Luz Lost"
    assert result["lost"]["alerts"] == 1
    alert = result["lost"]["alert"]
    assert alert.startswith(
        "No reminder is planned for this patient: their time zone, Etc/Unknown, is no place's"
    ), alert
    assert "PATCH /api/v1/patients/{id}" in alert and "/settings" in alert
    assert result["fine"] == {
        "status": 200,
        "heading": "Fina Fine",
        "alerts": 0,
        "alert": None,
    }
