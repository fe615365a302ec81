"""New patient with a phone number another patient record holds, in headless Chromium against
``next start`` and a real ``medremind web`` on a fresh database.

Left by session 27: the dashboard created the patient, listed the number as "sms: ok", and the
next message said "no usable channel" (the page contradicted itself, and only a failure told the
clinic). Now New patient refuses it at entry, naming Address, saying what to do and nothing
about the holder (another clinic's patient here: neither that clinic nor that patient is
named); created only if the clinician ticks "Register without it", and then the patient page
reads "sms: not usable" with what to do. The clinic's own patient's number links that patient.
Browser script ``dashboard/e2e/address-held.e2e.mjs`` (screenshots
``patient-new-address-held.png``, ``patient-address-held.png``). Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_organization, create_patient

THEIRS = "+14155550171"
MINE = "+14155550172"


async def test_a_held_number_is_refused_at_entry_and_never_reads_ok(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "heldnumber")
    other = await create_organization(admin_conn, name="Secret Southern Clinic")
    await create_patient(admin_conn, other["id"], contacts={"sms": THEIRS}, display_name="Zed Q")
    mine = await create_patient(
        admin_conn, clinic.org_id, contacts={"sms": MINE}, display_name="Ana Already"
    )

    result = run_dashboard_script(
        "address-held.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "THEIRS": THEIRS, "MINE": MINE},
    ).result

    # At entry: the field named, the number kept, what to do; nothing created yet.
    assert result["error"].startswith("Address: this number cannot be used for this patient")
    assert "invite link" in result["error"]
    assert result["url_after_refusal"].endswith("/patients/new")
    assert (result["address_kept"], result["address_invalid"]) == (THEIRS, "true")
    for holder in ("Secret", "Southern", "Zed"):
        assert holder not in result["page_text"], holder

    # Registered without it, as chosen: never "ok", and said why.
    assert "sms: not usable" in result["badges"], result["badges"]
    assert not [b for b in result["badges"] if b.startswith("sms: ok")]
    assert "not usable for this patient" in result["held_notice"]
    for holder in ("Secret", "Southern", "Zed"):
        assert holder not in result["patient_text"], holder
    created = await admin_conn.fetch(
        "select id from patients where display_name = 'Held Number' and organization_id = $1",
        clinic.org_id,
    )
    assert [str(r["id"]) for r in created] == [result["created_id"]]
    owner = await admin_conn.fetchval(
        "select p.organization_id from contact_points c join patients p on p.id = c.patient_id"
        " where c.address = $1",
        THEIRS,
    )
    assert owner == other["id"]

    # The clinic's own patient's number: that patient, linked; nothing to invite.
    assert result["own_error"].startswith("Address: this is already the address of another")
    assert result["own_link"] == f"/patients/{mine['id']}"
    assert result["own_offers_invite"] == 0
    assert (
        await admin_conn.fetchval(
            "select count(*) from patients where display_name = 'Twice Registered'"
        )
        == 0
    )
