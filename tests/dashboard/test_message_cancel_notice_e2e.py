"""Cancel of a scheduled message says it was done, in headless Chromium against ``next start``
and a real ``medremind web`` on a fresh database.

Found by hand on a running dashboard: after Cancel the message just left the pending list, with
no notice (Re-send, Compose and a group send each say what they did), so a clinician could not
tell it from a message that went or a click that did nothing. The message is due a day after
the database's now, so the test does not depend on the time of day. The browser script is
``dashboard/e2e/message-cancel-notice.e2e.mjs`` (screenshot ``message-cancel-notice.png``).
Skipped without node and chromium.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_message, create_patient


async def test_cancel_says_the_message_will_not_go(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "cancelnotice")
    patient = await create_patient(admin_conn, clinic.org_id, display_name="Later Message")
    tomorrow = await admin_conn.fetchval("select now() + interval '1 day'")
    message = await create_message(admin_conn, patient["id"], scheduled_time=tomorrow)

    result = run_dashboard_script(
        "message-cancel-notice.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "MESSAGE_ID": str(message["id"])},
    ).result

    assert result["notice"] is not None and result["notice"].startswith("Cancelled"), result
    assert result["notice_role"] == "status", result
    assert "status=pending" in result["url"], result
    status = await admin_conn.fetchval(
        "select status from scheduled_messages where id = $1", message["id"]
    )
    assert status == "cancelled"
