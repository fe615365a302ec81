"""Compose refuses a message that no channel of the patient reaches now, in headless Chromium
against ``next start`` and a real ``medremind web`` on a fresh database.

The patient's only channel is SMS and they sent STOP: Compose on SMS, and on auto, answers in
the form why and what to do (reply START, or a channel that reaches them), keeps the text and
inserts nothing. Before, the message was accepted and failed at once in the worker with "no
usable contact point in the patient's channel order" (the API refused it with a 422, 15a8856).
The browser script is ``dashboard/e2e/compose-unreachable.e2e.mjs``; screenshots
``compose-unreachable-sms.png`` and ``compose-unreachable-auto.png``. Skipped without node and
chromium.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_compose_to_a_patient_who_sent_stop_is_refused_in_the_form(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    admin, _ = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour Reach",
        ("admin@reach.test", "admin pass 1234"),
        ("nurse@reach.test", "nurse pass 1234"),
    )
    org_id = uuid.UUID(admin["organization_id"])
    patient = await create_patient(
        admin_conn, org_id, display_name="Sam Stopped", contacts={"sms": "+14155550199"}
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
    )

    result = run_dashboard_script(
        "compose-unreachable.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": "nurse@reach.test",
            "CLINICIAN_PASSWORD": "nurse pass 1234",
            "PATIENT_NAME": "Sam Stopped",
        },
    ).result

    for channel in ("sms", "auto"):
        refused = result[channel]
        assert refused["error"].startswith("Channel: no channel reaches this patient now"), refused
        assert "once they reply START" in refused["error"]
        assert refused["url"].endswith("/messages/new"), refused
        assert refused["text_kept"] == "Your results are ready"
        assert (refused["channel_after"], refused["channel_invalid"]) == (channel, "true")
    assert not await admin_conn.fetch(
        "select id from scheduled_messages where patient_id = $1", patient["id"]
    )
