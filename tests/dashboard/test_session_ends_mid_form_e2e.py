"""A session that ends while a clinician fills in a form, in headless Chromium against ``next
start`` and a real ``medremind web`` (``dashboard/e2e/session-ends-mid-form.e2e.mjs``).

Before: the patient page's 3-s refresh went to the sign-in page as soon as the session ended,
and a form's Save did too: what the clinician had typed was lost. Now the refresh stops, a Save
answers that nothing was saved with the form as typed, the page asks for the password itself
(components/SessionGuard.tsx), and the next Save saves. No address ever holds what was typed.
Also the template editor's caregiver update (caregiver_dose_update, migration 20260101018180).
Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from core.db import Database
from medremind.api_keys import create_api_key
from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_what_was_typed_survives_the_end_of_the_session(
    database_url: str, admin_conn: asyncpg.Connection, db: Database, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "expiry")
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Pia Session", contacts={"sms": "+14155550181"}
    )

    # The template's check: the web process's, with a service key (as the dashboard runs).
    api_key = await create_api_key(db.pool, str(clinic.org_id), "dashboard session e2e")
    run = run_dashboard_script(
        "session-ends-mid-form.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        next_env={"MEDREMIND_API_KEY": api_key},
        script_env={**clinic.admin_env, "PATIENT_ID": str(patient["id"])},
    )
    result = run.result

    # The patient page stayed, with what was typed, past its refresh; the Save said why not.
    assert result["patient_page_kept"] is True, result
    assert result["offsets_kept"] == "24h 2h", result
    assert result["prefs_refusal"].startswith("Nothing was saved: your session has ended"), result
    assert result["offsets_after_refusal"] == "24h 2h", result
    assert result["patient_resumed"].startswith("Signed in again"), result
    assert result["prefs_saved"] is True, result
    assert await admin_conn.fetchval(
        "select appointment_reminder_offsets from patients where id = $1", patient["id"]
    ) == [1440, 120]  # minutes
    # New patient: refused on the same page with every field as typed, then created.
    assert result["new_patient_refusal"].startswith("Nothing was saved"), result
    assert result["new_patient_url"].endswith("/patients/new"), result
    assert result["new_patient_kept"] == {
        "name": "Nia Draft",
        "channel": "sms",
        "address": "+14155550123",
        "external_id": "MRN-DRAFT",
    }, result
    assert result["created"] == "Nia Draft", result
    created = await admin_conn.fetchrow(
        "select p.external_id, c.address from patients p join contact_points c"
        " on c.patient_id = p.id where p.display_name = 'Nia Draft'"
    )
    assert (created["external_id"], created["address"]) == ("MRN-DRAFT", "+14155550123")
    # Never the sign-in page, and no address with what was typed.
    assert not any("/login" in url for url in result["urls"]), result["urls"]
    assert not any(
        word in url for url in result["urls"] for word in ("Nia", "4155550123", "MRN", "24h")
    ), result["urls"]
    assert "Nia Draft" not in run.next_log and "4155550123" not in run.next_log

    # The caregiver's update is a use of a template like the other automatic messages.
    assert result["kind_label"] == "Automatic: Caregiver update (dose taken after the alert)"
    assert "answered_at" in result["kind_hint"], result
    assert result["template_listed"] is True, result
    saved = await admin_conn.fetchrow(
        "select kind, automatic from message_templates where name = 'Caregiver update'"
    )
    assert (saved["kind"], saved["automatic"]) == ("caregiver_dose_update", True), saved
