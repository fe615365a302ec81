"""Edit and Cancel of a scheduled message say they were done, in headless Chromium against
``next start`` and a real ``medremind web`` on a fresh database.

Found by hand on a running dashboard: after Cancel the message just left the pending list, with
no notice (Re-send, Compose and a group send each say what they did), so a clinician could not
tell it from a message that went or a click that did nothing. Edit (the clinic's own message's
text and time, migration 20260101018500) is walked first, on the same message, moved to 03:00
tomorrow in the patient's zone (Asia/Tokyo, quiet 22:00-07:00; the clinic's is UTC): the notice
said it "goes ... at its time" while the worker held it to 07:00, and the edit page showed only the
clinic's time. The message is due a day after the database's now and the new time is computed from
it, so the test does not depend on the time of day. A second message, to a patient who sent STOP
since, is edited to 10 minutes ahead (refused naming the time: it would fail unsent) and then
to a day ahead (saved, said to fail unless they are back by then). The browser
script is ``dashboard/e2e/message-cancel-notice.e2e.mjs`` (screenshots
``message-edited.png``, ``message-cancel-notice.png``). Skipped without node and chromium.
"""

from __future__ import annotations

from datetime import UTC, time
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_message, create_patient


async def test_cancel_says_the_message_will_not_go(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "cancelnotice")
    patient = await create_patient(
        admin_conn,
        clinic.org_id,
        display_name="Later Message",
        timezone="Asia/Tokyo",
        quiet_start=time(22),
        quiet_end=time(7),
    )
    tomorrow = await admin_conn.fetchval("select now() + interval '1 day'")
    # 03:00 tomorrow in Tokyo, as the clinic (UTC) types it: inside the patient's quiet hours.
    quiet_at = await admin_conn.fetchval(
        "select (((now() at time zone 'Asia/Tokyo')::date + 1) + time '03:00')"
        " at time zone 'Asia/Tokyo'"
    )
    message = await create_message(
        admin_conn, patient["id"], scheduled_time=tomorrow, from_clinic=True
    )
    # A patient who sent STOP on their only channel after the clinic wrote to them.
    stopped = await create_patient(admin_conn, clinic.org_id, display_name="Stopped Since")
    stopped_message = await create_message(
        admin_conn, stopped["id"], scheduled_time=tomorrow, from_clinic=True
    )
    await admin_conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", stopped["id"]
    )
    # Typed in the clinic's zone (UTC) to the minute: 9 to 10 minutes ahead, within the refusal
    # window (15), whenever the walk gets there in the next 9 minutes; and a day ahead.
    soon, later = await admin_conn.fetchrow(
        "select now() + interval '10 minutes', now() + interval '1 day 1 hour'"
    )

    result = run_dashboard_script(
        "message-cancel-notice.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.nurse_env,
            "MESSAGE_ID": str(message["id"]),
            "PATIENT_ID": str(patient["id"]),
            "QUIET_TIME": quiet_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
            "STOPPED_MESSAGE_ID": str(stopped_message["id"]),
            "SOON_TIME": soon.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
            "LATER_TIME": later.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
        },
    ).result

    # Edit first (public.edit_scheduled_message): a time past is refused naming it, the text
    # kept as typed; saved, the list says so and shows the new text, the name filled in.
    assert result["edit_refusal"].startswith("Date and time: that time has passed"), result
    assert "use Send now" in result["edit_refusal"], result
    assert result["kept_text"] == "The new text, {{ patient_name }}", result
    # The edit page names the patient's own time of the message (their zone is not the clinic's).
    assert "(Asia/Tokyo)" in result["edit_for"], result
    # Saved inside their quiet hours: said so, not "at its time".
    assert result["edited_notice"].startswith("Changed, but"), result
    assert "inside their quiet hours" in result["edited_notice"], result
    assert "tick Urgent" not in result["edited_notice"], result
    assert result["row_text"] == "The new text, Later Message", result
    # The patient sent STOP since the message was written: an edit leaving it due within the
    # refusal window is refused on the time, nothing changed (it was saved, and failed unsent at
    # once); a later one is saved and said to fail unless they are back by then.
    assert result["stopped_refusal"].startswith(
        "Date and time: no channel reaches this patient now"
    ), result
    assert (
        "due within 15 minutes, would fail unsent. Nothing was changed."
        in (result["stopped_refusal"])
    ), result
    assert result["stopped_time_invalid"] == "true", result
    assert result["stopped_notice"].startswith(
        "Changed, but no channel reaches this patient now"
    ), result
    text, due = await admin_conn.fetchrow(
        "select message_content, scheduled_time from scheduled_messages where id = $1",
        stopped_message["id"],
    )
    assert (text, due) == ("Please call us", later.replace(second=0, microsecond=0)), (text, due)
    assert result["notice"] is not None and result["notice"].startswith("Cancelled"), result
    assert result["notice_role"] == "status", result
    assert "status=pending" in result["url"], result
    status, due = await admin_conn.fetchrow(
        "select status, scheduled_time from scheduled_messages where id = $1", message["id"]
    )
    assert status == "cancelled"
    assert due == quiet_at
    # The invite's end, in the clinic's zone (named) and the patient's own clock (Tokyo, +9 h).
    expires = await admin_conn.fetchval(
        "select expires_at from patient_invites where patient_id = $1", patient["id"]
    )
    utc, tokyo = expires.astimezone(UTC), expires.astimezone(ZoneInfo("Asia/Tokyo"))
    theirs = f"{tokyo:%H:%M}" if tokyo.date() == utc.date() else f"{tokyo.day} {tokyo:%b, %H:%M}"
    assert result["invite_expires"] == (
        f"Works once, until {utc.day} {utc:%b %Y, %H:%M} (UTC; patient's time: {theirs}"
        " (Asia/Tokyo)). It is not shown again."
    ), result
