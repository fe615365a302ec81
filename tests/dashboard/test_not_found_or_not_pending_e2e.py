"""What an action says when its row is not there to act on, in headless Chromium against ``next
start`` and a real ``medremind web`` (``dashboard/e2e/not-found-or-not-pending.e2e.mjs``).

A clinician with two tabs: a message cancelled in one, Cancel in the other says it is no longer
pending; a template version deleted in one, Delete in the other says it was not found, deleted
already. A forged form: another clinic's message or template id reads exactly as an id that does
not exist, naming what was not found. Found by hand (session 30): Re-send and a template's Delete
with a forged id said "That item was not found.", naming nothing. The other clinic's rows stay as
they were. Skipped without node and chromium.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_message, create_organization, create_patient

TEMPLATE = (
    "insert into message_templates (organization_id, name, kind, locale, channel, body)"
    " values ($1, $2, 'free_text', 'en', 'default', 'Hello') returning id"
)


async def test_gone_rows_and_forged_ids_say_what_is_wrong(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "notfound")
    later = datetime.now(UTC) + timedelta(hours=3)
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Tess Twotabs", contacts={"sms": "+14155550191"}
    )
    two_tabs = await create_message(admin_conn, patient["id"], scheduled_time=later)
    await create_message(admin_conn, patient["id"], scheduled_time=later)
    await create_message(admin_conn, patient["id"], status="failed")
    await admin_conn.fetchval(TEMPLATE, clinic.org_id, "twotabs-note")
    await admin_conn.fetchval(TEMPLATE, clinic.org_id, "kept-note")
    other_org = await create_organization(admin_conn, name="Other Clinic")
    other_patient = await create_patient(
        admin_conn, other_org["id"], display_name="Otto Other", contacts={"sms": "+14155550192"}
    )
    other_pending = await create_message(admin_conn, other_patient["id"], scheduled_time=later)
    other_failed = await create_message(admin_conn, other_patient["id"], status="failed")
    other_template = await admin_conn.fetchval(TEMPLATE, other_org["id"], "their-note")

    result = run_dashboard_script(
        "not-found-or-not-pending.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.admin_env,
            "PATIENT_NAME": "Tess Twotabs",
            "TWO_TABS_ID": str(two_tabs["id"]),
            "OTHER_PENDING_ID": str(other_pending["id"]),
            "OTHER_FAILED_ID": str(other_failed["id"]),
            "OTHER_TEMPLATE_ID": str(other_template),
            "MISSING_ID": str(uuid.uuid4()),
            "TEMPLATE_NAME": "twotabs-note",
        },
    ).result

    assert result["stale_cancel"].startswith("That message is no longer pending"), result
    # Another clinic's id and one that does not exist read the same, naming the message.
    assert result["cancel_foreign"] == result["cancel_missing"], result
    assert result["cancel_foreign"].startswith("That message was not found"), result
    assert result["resend_foreign"] == result["resend_missing"], result
    assert result["resend_foreign"].startswith("That message was not found"), result
    assert result["stale_delete"].startswith("That template version was not found"), result
    assert "deleted already" in result["stale_delete"]
    assert result["delete_foreign"] == result["delete_missing"] == result["stale_delete"], result

    others = await admin_conn.fetch(
        "select id, status from scheduled_messages where patient_id = $1", other_patient["id"]
    )
    assert {r["id"]: r["status"] for r in others} == {
        other_pending["id"]: "pending",
        other_failed["id"]: "failed",
    }
    assert await admin_conn.fetchval(
        "select count(*) from message_templates where id = $1", other_template
    )
    names = await admin_conn.fetch(
        "select name from message_templates where organization_id = $1", clinic.org_id
    )
    assert [r["name"] for r in names] == ["kept-note"]
