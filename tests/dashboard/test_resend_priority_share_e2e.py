"""The dashboard's Re-send of a failed priority-0 message takes from the clinic's hourly share of
priority 0 (migration 20260101017650), in headless Chromium.

The web process runs with ``MEDREMIND_API_PRIORITY_ZERO_PER_HOUR=0`` (published at start in
``service_limits``): the clinician's re-send of a failed urgent recall at priority 0 makes its
copy at 5, and the notice says it goes after the dose reminders due with it, and why; a routine
message's re-send keeps the plain notice. Before, the copy kept priority 0 uncounted and the
notice said nothing. The browser script is ``dashboard/e2e/resend-priority-share.e2e.mjs``.
Skipped without node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_message, create_patient


async def test_a_resent_priority_zero_message_past_the_share_goes_at_normal_priority(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "share")
    patient = await create_patient(
        admin_conn, clinic.org_id, display_name="Ana Share", contacts={"sms": "+34600111222"}
    )
    failed = {}
    for text, priority in (("Recall: do not use lot 42", 0), ("Routine: clinic news", 5)):
        row = await create_message(
            admin_conn,
            patient["id"],
            message_content=text,
            platform="sms",
            status="failed",
            priority=priority,
            urgent=True,
            attempts=1,
            last_error="carrier refused",
            scheduled_time=datetime.now(UTC) - timedelta(minutes=5),
        )
        failed[priority] = row["id"]

    result = run_dashboard_script(
        "resend-priority-share.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        web_env={"MEDREMIND_API_PRIORITY_ZERO_PER_HOUR": "0"},
        script_env={"CLINICIAN_EMAIL": clinic.admin[0], "CLINICIAN_PASSWORD": clinic.admin[1]},
    ).result

    copies = {
        priority: await admin_conn.fetchval(
            "select priority from scheduled_messages where resent_from = $1", message_id
        )
        for priority, message_id in failed.items()
    }
    assert copies == {0: 5, 5: 5}, copies
    assert "It goes at normal priority, after the dose reminders due with it" in result["share"]
    assert "MEDREMIND_API_PRIORITY_ZERO_PER_HOUR" in result["share"]
    assert result["plain"] == (
        "Re-sent: a new message is on its way; the failed one keeps its delivery history."
    )
