"""Texts of more than one line in the template editor and Compose, in headless Chromium against
``next start`` and a real ``medremind web`` (which checks templates) on a fresh database.

Found by hand (medremind dev): Check text or Save on a two-line template showed nothing, neither
the problems MedRemind found nor "The text passed the checks". The browser submits a textarea's
line breaks as CRLF; the server action checked that text, and the editor shows an answer only
for the text on screen (LF), so a refused two-line template was silently not saved. Compose
stored a two-line message with CRLF, longer than its preview counted. Now both take the text's
line breaks as typed (``typedText``, dashboard/src/lib/form-state.ts). The browser script is
``dashboard/e2e/multiline-texts.e2e.mjs`` (screenshot ``template-two-lines-refused.png``).
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


async def test_two_line_templates_are_answered_and_two_line_messages_stored_as_typed(
    database_url: str, admin_conn: asyncpg.Connection, db: Database, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "lines")
    org_id = clinic.org_id
    patient = await create_patient(
        admin_conn, org_id, display_name="Lina Lines", contacts={"sms": "+14155550181"}
    )
    api_key = await create_api_key(db.pool, str(clinic.org_id), "dashboard lines e2e")

    result = run_dashboard_script(
        "multiline-texts.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        next_env={"MEDREMIND_API_KEY": api_key},
        script_env={
            **clinic.admin_env,
            "PATIENT_NAME": "Lina Lines",
        },
    ).result

    assert "line 2: U+202E (RIGHT-TO-LEFT OVERRIDE) is not closed" in result["refused"], result
    assert result["checked"] == "The text passed the checks."
    bodies = await admin_conn.fetch("select body from message_templates where name = 'Friday'")
    assert [r["body"] for r in bodies] == ["Hello {{ patient_name }}\nSee you on Friday"]
    # The preview counted 42 characters (one line break); the stored text is that one.
    assert result["compose_count"].startswith("42 characters as sent"), result
    content = await admin_conn.fetchval(
        "select message_content from scheduled_messages where patient_id = $1", patient["id"]
    )
    assert content == "Your results are ready.\nCall us on Monday."
