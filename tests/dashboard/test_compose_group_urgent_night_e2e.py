"""An urgent group message from Compose says how many of its recipients get it inside their quiet
hours, in headless Chromium against ``next start`` and a real ``medremind web``.

Quiet hours do not hold an urgent message (scheduler/quiet_hours.py is_deferrable), and the
count the clinician confirmed before sending said nothing of it: a group message ticked Urgent
for 23:30 reached every patient inside their window then. Now the count names them (from
``public.patient_quiet_at``, the dispatcher's window: the patient's own, else the clinic's, in
the patient's zone), the send is refused when that number has changed since the count, and the
notice after sending says it again. A message to one patient says after the send that their quiet
hours hold it (or, Urgent, that it reaches them at night): before, the clinician learned it only
from the message's time in the list. The time is tomorrow's 23:30 in the clinic's zone (UTC), so
the test holds at any hour. Browser script: ``dashboard/e2e/compose-group-urgent-night.e2e.mjs``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient


async def test_an_urgent_group_message_names_who_gets_it_at_night(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "nightly")
    org_id = clinic.org_id
    # The clinic's own default: none (a patient without a window of their own is never quiet).
    await admin_conn.execute(
        "update organizations set timezone = 'UTC', default_quiet_start = '00:00',"
        " default_quiet_end = '00:00' where id = $1",
        org_id,
    )
    # 23:30 UTC: inside 22:00-07:00; 08:30 in Tokyo, inside 07:00-09:00; the third has none.
    for name, zone, window, phone in (
        ("Owl Night", "UTC", (time(22), time(7)), "+14155550141"),
        ("Kyoto Morning", "Asia/Tokyo", (time(7), time(9)), "+14155550142"),
        ("Lark Day", "UTC", (None, None), "+14155550143"),
    ):
        await create_patient(
            admin_conn,
            org_id,
            display_name=name,
            timezone=zone,
            quiet_start=window[0],
            quiet_end=window[1],
            contacts={"sms": phone},
        )
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)

    result = run_dashboard_script(
        "compose-group-urgent-night.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={**clinic.nurse_env, "LOCAL_TIME": f"{tomorrow.isoformat()}T23:30"},
    ).result

    assert result["urgent_count"] == (
        "3 patients will receive it. Urgent: 2 of them are inside their quiet hours then and will"
        " get it at night. Untick Urgent to have theirs wait until their quiet hours end."
    ), result
    assert result["plain_count"] == "3 patients will receive it.", result
    assert result["night_field"] == "2", result
    assert result["changed"].startswith("Recipients: it is Urgent, and the number"), result
    assert result["notice"] == (
        "Scheduled for 3 patients. Urgent: 2 of them are inside their quiet hours and will get it"
        " at night."
    ), result
    group = await admin_conn.fetch(
        "select urgent from scheduled_messages where message_content like 'The clinic''s%'"
    )
    assert [r["urgent"] for r in group] == [True] * 3  # once, after the refused send
    # One patient: the notice after the send says what their quiet hours do to it.
    one = result["one"]
    assert one["Owl Night"].startswith(
        "Scheduled, but this patient is inside their quiet hours at that time"
    ), one
    assert one["Owl Night urgent"].startswith("Sent as Urgent inside this patient's quiet"), one
    assert one["Lark Day"] is None, one
