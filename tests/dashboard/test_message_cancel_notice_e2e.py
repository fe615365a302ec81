"""Edit and Cancel of a scheduled message say they were done, in headless Chromium against
``next start`` and a real ``medremind web`` on a fresh database.

Found by hand on a running dashboard: after Cancel the message just left the pending list, with
no notice (Re-send, Compose and a group send each say what they did), so a clinician could not
tell it from a message that went or a click that did nothing. Edit (the clinic's own message's
text and time, migration 20260101018500) is walked first, on the same message. The message is
due a day after the database's now, so the test does not depend on the time of day. The browser
script is ``dashboard/e2e/message-cancel-notice.e2e.mjs`` (screenshots
``message-edited.png``, ``message-cancel-notice.png``). Skipped without node and chromium.
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
    message = await create_message(
        admin_conn, patient["id"], scheduled_time=tomorrow, from_clinic=True
    )

    result = run_dashboard_script(
        "message-cancel-notice.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "MESSAGE_ID": str(message["id"])},
    ).result

    # Edit first (public.edit_scheduled_message): a time past is refused naming it, the text
    # kept as typed; saved, the list says so and shows the new text, the name filled in.
    assert result["edit_refusal"].startswith("Date and time: that time has passed"), result
    assert "use Send now" in result["edit_refusal"], result
    assert result["kept_text"] == "The new text, {{ patient_name }}", result
    assert result["edited_notice"].startswith("Changed"), result
    assert result["row_text"] == "The new text, Later Message", result
    assert result["notice"] is not None and result["notice"].startswith("Cancelled"), result
    assert result["notice_role"] == "status", result
    assert "status=pending" in result["url"], result
    status = await admin_conn.fetchval(
        "select status from scheduled_messages where id = $1", message["id"]
    )
    assert status == "cancelled"
