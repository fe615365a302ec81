"""Forms posted with a patient id that is not, or no longer, the clinic's, in headless Chromium
against ``next start`` and a real ``medremind web`` on a fresh database.

Found by hand (session 28, a clinician of one clinic with another clinic's ids in its forms): saving
a patient's message preferences for another clinic's patient answered "Something went wrong" (the
row-level check's error surfaced as a 500), and the clinic's own patient erased meanwhile would have
taken them on the tombstone (the policy checks the clinic, not the status: read, not seen failing,
since the run stopped at the first step); Compose to another clinic's patient said "That item was
not found." naming no field. Now the preferences land on that patient's page as a reload would show
it (not found; the erased record) with nothing written, and Compose names the Patient field as
Appointments and Waitlist do. Browser script ``dashboard/e2e/forged-patient-ids.e2e.mjs``. Skipped
without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_organization, create_patient


async def test_forged_and_erased_patient_ids_are_refused_plainly(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "forgedids")
    other = await create_organization(admin_conn, name="Other Clinic")
    theirs = await create_patient(
        admin_conn, other["id"], contacts={"sms": "+14155550181"}, display_name="Zed Other"
    )
    mine = await create_patient(
        admin_conn, clinic.org_id, contacts={"sms": "+14155550182"}, display_name="Ana Mine"
    )
    erased = await create_patient(
        admin_conn, clinic.org_id, contacts={"sms": "+14155550183"}, display_name="Gone Soon"
    )
    await admin_conn.execute("select public.erase_patient($1, 'test', now())", erased["id"])

    result = run_dashboard_script(
        "forged-patient-ids.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.nurse_env,
            "MINE": str(mine["id"]),
            "THEIRS": str(theirs["id"]),
            "ERASED": str(erased["id"]),
        },
    ).result

    assert result["theirs"] == {"url": f"/patients/{theirs['id']}", "heading": "Not found"}
    assert "Zed" not in result["theirs_text"]
    assert result["erased"] == {"url": f"/patients/{erased['id']}", "heading": "Deleted patient"}
    for patient in (theirs, erased, mine):
        assert (
            await admin_conn.fetchval(
                "select count(*) from patient_preferences where patient_id = $1", patient["id"]
            )
            == 0
        )
    offsets = await admin_conn.fetch(
        "select appointment_reminder_offsets from patients where id = any($1::uuid[])",
        [theirs["id"], erased["id"], mine["id"]],
    )
    assert [r[0] for r in offsets] == [None, None, None]

    assert result["compose_error"].startswith("Patient: not one of your clinic's patients")
    assert result["compose_patient_invalid"] == "true"
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where patient_id = $1", theirs["id"]
        )
        == 0
    )
