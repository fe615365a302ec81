"""Send now and the API's newer checks on the dashboard, in headless Chromium against ``next start``
and a real ``medremind web``, for a clinic on Pacific/Kiritimati (UTC+14).

Found by hand (last session): "Send now" on a pending medication reminder sent it hours before its
dose, at one click: the patient takes the dose early. Now a reminder before its dose's time (less
the clinic's early window) offers a message to the patient instead, and any other message due
later asks first, naming its time and how early; the server refuses a forged or stale
confirmation. The dashboard also lacked checks the API makes: a booking or a move onto the
patient's live appointment (the API's 409 naming it) or for a patient who has not consented
(409), Etc/GMT+N and EST zones (422), template
markup or invisible-only text in Compose, and a send time, booking or move already past (422).
Each is refused in its form, named, the input kept. The browser script is
``dashboard/e2e/send-now-and-api-checks.e2e.mjs``. Skipped without node and chromium.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from tests.dashboard.harness import harbour_clinic, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import (
    create_dose_reminder,
    create_medication,
    create_message,
    create_patient,
)

ZONE = "Pacific/Kiritimati"


async def test_send_now_asks_and_the_forms_refuse_what_the_api_refuses(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    clinic = await harbour_clinic(database_url, admin_conn, "sendnow")
    org_id = clinic.org_id
    await admin_conn.execute("update organizations set timezone = $2 where id = $1", org_id, ZONE)
    now = datetime.now(UTC).replace(second=0, microsecond=0)

    dose_patient = await create_patient(
        admin_conn, org_id, display_name="Dora Dose", contacts={"sms": "+14155550161"}
    )
    _, schedule = await create_medication(admin_conn, dose_patient["id"])
    due = now + timedelta(hours=5)
    reminder = await create_dose_reminder(admin_conn, schedule, due)
    # A reminder of this morning's dose that failed 11 hours ago: too late to re-send.
    failed = await create_dose_reminder(
        admin_conn,
        schedule,
        now - timedelta(hours=11),
        status="failed",
        last_error="sms: 30003 unreachable",
    )
    free_patient = await create_patient(
        admin_conn, org_id, display_name="Fred Free", contacts={"sms": "+14155550162"}
    )
    free = await create_message(
        admin_conn, free_patient["id"], scheduled_time=now + timedelta(hours=3)
    )

    appt_patient = await create_patient(
        admin_conn, org_id, display_name="Ana Appt", contacts={"sms": "+14155550163"}
    )
    tomorrow = (now.astimezone(ZoneInfo(ZONE)) + timedelta(days=1)).date()
    first_at = datetime.combine(tomorrow, time(9, 30), ZoneInfo(ZONE))
    later_at = datetime.combine(tomorrow, time(11, 0), ZoneInfo(ZONE))
    for at in (first_at, later_at):
        await admin_conn.execute(
            "insert into appointments (organization_id, patient_id, starts_at, location)"
            " values ($1, $2, $3, 'Room 3')",
            org_id,
            appt_patient["id"],
            at,
        )
    await create_patient(
        admin_conn,
        org_id,
        display_name="Ivy Invited",
        contacts={"sms": "+14155550164"},
        consent_at=None,
        status="invited",
    )
    first_id = await admin_conn.fetchval(
        "select id from appointments where starts_at = $1", first_at
    )

    result = run_dashboard_script(
        "send-now-and-api-checks.e2e.mjs",
        db_env=clinic.db_env,
        tmp_path=tmp_path,
        script_env={
            **clinic.admin_env,
            "DOSE_PATIENT": "Dora Dose",
            "FREE_PATIENT": "Fred Free",
            "DOSE_MESSAGE_ID": str(reminder["id"]),
            "APPT_PATIENT": "Ana Appt",
            "INVITED_PATIENT": "Ivy Invited",
            "APPT_TIME": first_at.strftime("%Y-%m-%dT%H:%M"),
            "PAST_TIME": (first_at - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    ).result

    # Send now: the dose reminder offers a message instead; the free text asks first.
    assert result["dose_send_now_buttons"] == 0, result
    assert result["dose_note"].startswith("Goes at its dose's time ("), result
    assert result["dose_note"].endswith("Write to Dora Dose instead"), result
    assert result["dose_link"] == f"/messages/new?patient={dose_patient['id']}"
    assert result["question"].startswith("It is due at "), result
    # Due 3 h after `now`; the page is shown a little later (servers starting, signing in).
    assert re.search(r"Send it now, (3 h|2 h 5\d min) early\?$", result["question"]), result
    assert result["quiet_note"].startswith("It is not urgent: if it is night for the patient")
    assert result["focus_on_question"] == "Yes, send now"
    assert result["focus_after_keep"] == "Send now"
    assert result["forged_dose_error"].startswith("Not sent: this is a dose's reminder"), result
    assert "time has changed" in result["moved_error"]
    assert result["free_sent"] is True
    rows = {
        r["id"]: r
        for r in await admin_conn.fetch("select id, scheduled_time from scheduled_messages")
    }
    # Compose's refusals inserted nothing; the late reminder was not offered for re-sending.
    assert set(rows) == {reminder["id"], free["id"], failed["id"]}
    assert result["late_resend_buttons"] == 0
    assert result["late_resend_note"] == (
        "Not re-sendable: its dose's time has passed (a late reminder risks a double dose)."
    )
    assert rows[reminder["id"]]["scheduled_time"] == due
    assert rows[free["id"]]["scheduled_time"] <= datetime.now(UTC)

    # Appointments: the booking and the move onto the first are refused, naming it.
    assert result["appointment_error"].startswith(
        "Starts at: this patient already has an appointment at that time"
    ), result
    assert result["appointment_link"] == f"#appointment-{first_id}"
    assert result["appointment_kept"] == {
        "starts_at": first_at.strftime("%Y-%m-%dT%H:%M"),
        "location": "Room 7",
        "invalid": "true",
    }
    assert result["move_error"].startswith("New time: the patient already has another"), result
    assert result["move_named"] == str(first_id)
    assert result["outlined"] == {"id": f"appointment-{first_id}", "outline": "solid"}
    # Yesterday: refused (the API's 422), for a booking, a move and a message.
    assert result["past_booking_error"].startswith("Starts at: that time has passed"), result
    assert result["past_move_error"].startswith("New time: that time has passed"), result
    assert result["past_send_error"].startswith("Date and time: that time has passed"), result
    assert result["past_send_invalid"] == "true"
    assert result["invited_error"].startswith("Patient: this patient has not consented yet")
    assert result["invited_marked"] == "true"
    starts = await admin_conn.fetch("select starts_at from appointments order by starts_at")
    assert [r["starts_at"] for r in starts] == [first_at, later_at]

    # Zones: refused, named, kept; nothing stored.
    assert result["settings_zone_before"] == ZONE
    assert result["settings_zone_error"].startswith("Timezone: Etc/GMT+N and Etc/GMT-N"), result
    assert "Etc/GMT+5 is UTC-05:00" in result["settings_zone_error"]
    assert result["settings_zone_kept"] == "Etc/GMT+5"
    assert (
        await admin_conn.fetchval("select timezone from organizations where id = $1", org_id)
        == ZONE
    )
    assert result["patient_zone_error"].startswith("Timezone: EST and MST are fixed offsets")
    assert await admin_conn.fetchval("select count(*) from patients") == 4

    # Compose: markup and invisible text refused in the form, the Message field marked.
    assert result["markup_warning"].startswith("Sent as typed: {{1}}."), result
    assert result["markup_error"].startswith("Message: it holds template markup"), result
    assert result["markup_kept"] == "Your code is {{1}}"
    assert result["markup_invalid"] == "true"
    assert result["invisible_error"].startswith("Message: it shows nothing"), result
    assert "compose-error" in result["invisible_described"].split()
