"""Patients who share a name are told apart in the dashboard's patient pickers, in headless
Chromium.

Found by hand: a clinic on the other side of the date line registered "Tavita" three times (the
form sent again); Compose, Appointments and the Waitlist listed "Tavita" three
times, and the clinician could not tell which one a message or appointment went to: a health
message to the wrong patient. Each homonym now carries what tells it apart: the clinic's external
id, else the masked contact (lib/data/patients.ts CONTACT_HINT: never the whole address), and the
record's id start where even those are the same. The browser script is
``dashboard/e2e/homonyms.e2e.mjs`` (screenshots ``homonyms-*.png``). Skipped without node and
chromium, like the dashboard e2e.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient

EMAIL = "dr.homonyms@clinic.test"
PASSWORD = "correct horse battery names"


async def test_patients_who_share_a_name_are_told_apart_in_every_picker(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, EMAIL, PASSWORD, "Apia Clinic")
    org_id = uuid.UUID(clinic["organization_id"])
    # Two numbers that end alike: their masked hints ("SMS …2346") are the same too.
    first = await create_patient(
        admin_conn, org_id, display_name="Tavita", contacts={"sms": "+6857712346"}
    )
    second = await create_patient(
        admin_conn, org_id, display_name="Tavita", contacts={"sms": "+6857702346"}
    )
    await create_patient(
        admin_conn,
        org_id,
        display_name="tavita",
        external_id="MRN-9",
        contacts={"sms": "+6857722346"},
    )
    await create_patient(admin_conn, org_id, display_name="Sione", contacts={"sms": "+6857712345"})

    result = run_dashboard_script(
        "homonyms.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={"CLINICIAN_EMAIL": EMAIL, "CLINICIAN_PASSWORD": PASSWORD},
    ).result

    expected = {
        "Choose a patient",
        "Sione",
        f"Tavita (SMS …2346) #{str(first['id'])[:8]}",
        f"Tavita (SMS …2346) #{str(second['id'])[:8]}",
        "tavita (external id MRN-9)",
    }
    for form in ("compose", "appointment", "waitlist"):
        assert set(result[form]) == expected, (form, result[form])
        assert len(result[form]) == len(expected), (form, result[form])
