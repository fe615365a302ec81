"""The dashboard's API key refused by the MedRemind service, in headless Chromium against ``next
start`` and a real ``medremind web`` on a fresh database.

Found on a dashboard whose ``MEDREMIND_API_KEY`` the service did not know: a patient's next
automatic message said "The MedRemind service did not answer, so the text cannot be shown now"
and Save template "the MedRemind service did not answer ... try again in a moment", though the
service had answered 401; clinicians retried, and whoever runs the dashboard was never told what
to fix. Now both name the refused key and ``medremind apikey create``, and the template check
no longer asks to try again; nothing is saved. The browser script is
``dashboard/e2e/service-key-refused.e2e.mjs``; screenshots ``service-key-refused-*.png``.
Skipped without node and chromium.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_message, create_patient


async def test_a_refused_api_key_is_named_not_taken_for_silence(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    admin, _ = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour Keys",
        ("admin@keys.test", "admin pass 1234"),
        ("nurse@keys.test", "nurse pass 1234"),
    )
    org_id = uuid.UUID(admin["organization_id"])
    patient = await create_patient(admin_conn, org_id, display_name="Kim Key")
    # The planner's next reminder for the patient: the page previews it through the API.
    await create_message(
        admin_conn,
        patient["id"],
        kind="medication_reminder",
        message_content=None,
        scheduled_time=datetime.now(UTC) + timedelta(hours=2),
    )

    result = run_dashboard_script(
        "service-key-refused.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        next_env={"MEDREMIND_API_KEY": "mr_notakey_0000000000000000"},
        script_env={
            "ADMIN_EMAIL": "admin@keys.test",
            "ADMIN_PASSWORD": "admin pass 1234",
            "PATIENT_ID": str(patient["id"]),
        },
    ).result

    refused = "the MedRemind service refused the dashboard's API key (MEDREMIND_API_KEY"
    assert refused in result["template"], result["template"]
    assert "medremind apikey create" in result["template"]
    assert "did not answer" not in result["template"]
    assert "try again" not in result["template"]
    assert result["template_rows"] == 0
    assert await admin_conn.fetchval("select count(*) from message_templates") == 0
    assert f"The text cannot be shown now: {refused}" in result["patient_page"]
    assert "did not answer" not in result["patient_page"]
