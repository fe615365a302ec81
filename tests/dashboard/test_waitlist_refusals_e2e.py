"""The waitlist form says why it refuses, in headless Chromium against ``next start`` and a real
``medremind web`` on a fresh database.

Before, the dashboard read every refusal of the database as "already on the waitlist": an
invited patient (not consented yet) was added, though no freed slot is ever offered to them
(core/sql/waitlist.sql), and a note holding a NUL, which PostgreSQL's text cannot store, was
"already on the waitlist". Now the invited patient is refused naming the invite link (as the
API's POST /waitlist answers 409), the note naming Note, and only a real second entry is
"already on the waitlist". The browser script is ``dashboard/e2e/waitlist-refusals.e2e.mjs``.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_the_waitlist_says_why_it_refuses(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "refusing")
    await create_patient(
        admin_conn,
        clinic.org_id,
        display_name="Ivy Invited",
        status="invited",
        consent_at=None,
        contacts={"sms": "+14155550196"},
    )
    await create_patient(
        admin_conn, clinic.org_id, display_name="Wren Waiting", contacts={"sms": "+14155550197"}
    )

    result = run_dashboard_script(
        "waitlist-refusals.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.nurse_env,
            "INVITED_NAME": "Ivy Invited",
            "PATIENT_NAME": "Wren Waiting",
        },
    ).result

    assert result["invited"].startswith("Patient: this patient has not consented yet"), result
    assert "invite link" in result["invited"] and result["invited_field"] == "true", result
    assert result["nul_note"].startswith("Note: it holds a control character"), result
    assert result["nul_field"] == "true", result
    assert result["added"] is None, result
    assert result["again"].startswith("Patient: already on the waitlist"), result
    assert result["rows"] == 1, result
    entries = await admin_conn.fetch(
        "select p.display_name, w.note from waitlist_entries w"
        " join patients p on p.id = w.patient_id"
    )
    assert [(e["display_name"], e["note"]) for e in entries] == [("Wren Waiting", "Mornings only")]
