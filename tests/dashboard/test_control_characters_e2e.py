"""A control character in a dashboard form is refused naming the field, in headless Chromium
against ``next start`` and a real ``medremind web`` (``dashboard/e2e/control-characters.e2e.mjs``).

Found by hand (session 30): a NUL (pasted from another program, or a forged form) in New
patient's external id, the clinic's name, a template's name, an appointment's location or a
composed message answered 500 and the page "Something went wrong", losing what was typed
(PostgreSQL's text holds no NUL); on the sign-in page so did an e-mail with one, before anyone
signed in. Now each form says which field holds it and what to do, and nothing is saved.
A template named on two lines before the one-line rule is renamed to one line (Rename).
Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_a_control_character_is_refused_naming_its_field(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "controls")
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Cora Control", contacts={"sms": "+14155550193"}
    )

    # A template named on two lines before the one-line rule (migration 20260101019020): it
    # could take no new version, and nothing renamed it (migration 20260101019450 does).
    await admin_conn.execute(
        "alter table message_templates disable trigger message_templates_one_line_written"
    )
    for locale in ("en", "es"):
        await admin_conn.execute(
            "insert into message_templates (organization_id, name, locale, channel, body)"
            " values ($1, 'Evening' || chr(10) || 'plan', $2, 'sms', 'Good evening')",
            clinic.org_id,
            locale,
        )
    await admin_conn.execute(
        "alter table message_templates enable trigger message_templates_one_line_written"
    )

    result = run_dashboard_script(
        "control-characters.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.admin_env, "PATIENT_ID": str(patient["id"])},
    ).result

    assert result["sign_in"]["status"] == 200, result
    assert result["sign_in"]["heading"] != "Something went wrong", result
    for form, label in (
        ("patient", "External id"),
        ("settings", "Name"),
        ("appointment", "Location"),
        ("compose", "Message"),
    ):
        said = result[form]
        assert said["status"] == 200, (form, said)
        assert said["alert"].startswith(f"{label}: it holds an invisible control character"), said
    assert result["patient_kept"] == "Nul Tester"
    assert result["template"]["heading"] == "Message templates", result
    assert await admin_conn.fetchval("select count(*) from patients") == 1
    assert await admin_conn.fetchval("select count(*) from appointments") == 0
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 0
    assert result["two_lines_rows"] == 2 and result["two_lines_after"] == 0, result
    assert result["rename_refused"].startswith("New name: it holds"), result
    names = await admin_conn.fetch("select name, locale from message_templates order by locale")
    assert [(r["name"], r["locale"]) for r in names] == [
        ("Evening plan", "en"),
        ("Evening plan", "es"),
    ]
    assert (
        await admin_conn.fetchval("select name from organizations where id = $1", clinic.org_id)
        == "Harbour Controls"
    )
