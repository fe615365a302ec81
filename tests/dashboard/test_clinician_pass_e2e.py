"""A clinician's pass over appointments, compose's send time and the header on a phone, in
headless Chromium against ``next start`` and a real ``medremind web`` on a fresh database.

The browser script (``dashboard/e2e/clinician-pass.e2e.mjs``) forges what the browser's own checks
would stop: a new appointment on a day that does not exist, minutes that are not a number and
another clinic's patient are each refused naming the field and how to fix it, keeping everything
typed (before: a redirect to a generic "something in the form is not valid" and an empty form; a
database error taken for "not found"); nothing is saved until corrected. A forged reschedule
time names New time, a forged send time in Compose names Date and time. On a phone the header is
one line with the navigation behind a Menu button (it was 279 px tall at 360 px wide, a third of
the screen), usable by keyboard, and each appointment is a block with its actions on the
screen. A created appointment is confirmed in words in a live region, once: not after a reload,
not beside the next submission's answer. Screenshots ``appointment-refused.png``,
``appointment-created.png``, ``header-phone.png``, ``header-phone-open.png``,
``appointments-phone.png``. Skipped without node and chromium.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import asyncpg

from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_organization, create_patient


async def test_forged_appointments_name_the_field_and_the_phone_header_is_one_line(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    admin, _ = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour Pass",
        ("admin@pass.test", "admin pass 1234"),
        ("nurse@pass.test", "nurse pass 1234"),
    )
    org_id = uuid.UUID(admin["organization_id"])
    await admin_conn.execute(
        "update organizations set timezone = 'Europe/Madrid' where id = $1", org_id
    )
    patient = await create_patient(admin_conn, org_id, display_name="Bob Existing")
    other_clinic = await create_organization(admin_conn, name="Other Clinic")
    stranger = await create_patient(admin_conn, other_clinic["id"], display_name="Zed Elsewhere")

    result = run_dashboard_script(
        "clinician-pass.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        # The dashboard's server in a zone of its own, neither UTC nor the clinic's: the time
        # typed is the clinic's wall clock whatever the server's (it used to be read in the
        # server's zone, 09:30 in Madrid stored as 04:00 under Asia/Kolkata).
        next_env={"TZ": "Asia/Kolkata"},
        script_env={
            "ADMIN_EMAIL": "admin@pass.test",
            "ADMIN_PASSWORD": "admin pass 1234",
            "PATIENT_NAME": "Bob Existing",
            "OTHER_PATIENT_ID": str(stranger["id"]),
        },
    ).result

    # The form offers tomorrow at a whole hour, not at this very minute.
    assert result["default_start"].endswith(":00"), result["default_start"]
    # A day that does not exist: Starts at named, marked, everything typed kept.
    assert result["time_error"].startswith("Starts at: enter the appointment's date and time")
    assert "real calendar day" in result["time_error"]
    after = result["after_time"]
    # Sent back as typed, but a datetime-local field cannot hold a day that does not exist: the
    # browser shows it empty, marked and described by the message.
    assert after["starts_at"] == {"value": "", "invalid": True, "described": True}
    assert after["minutes"] == {"value": "45", "invalid": False, "described": False}
    assert after["location"]["value"] == "Room 7"
    assert after["patient"] == "Bob Existing"
    # Minutes not a number: Minutes named; Starts at no longer marked.
    assert result["minutes_error"].startswith("Minutes: how long the appointment lasts")
    assert result["after_minutes"]["minutes"]["invalid"] is True
    assert result["after_minutes"]["starts_at"] == {
        "value": "2030-06-03T09:30",
        "invalid": False,
        "described": False,
    }
    # Another clinic's patient: named as not one of this clinic's.
    assert result["patient_error"].startswith("Patient: not one of your clinic's patients")
    assert result["patient_invalid"] == "true"
    assert result["patient_after"] == "Choose a patient"  # not silently the list's first patient
    assert result["kept_after_patient"] == {"location": "Room 7", "minutes": "45"}
    # Corrected: created once, at the wall-clock time typed in the clinic's zone.
    assert "3 Jun 2030, 09:30" in result["created_row"], result["created_row"]
    assert result["error_after_create"] == 0
    # Confirmed in words, announced (a polite live region already on the page), shown once.
    assert result["status_regions_before"] >= 1
    assert result["created_notice"].startswith(
        "Appointment created: Bob Existing, 3 Jun 2030, 09:30 (45 min, Room 7)."
    ), result["created_notice"]
    assert result["created_notice_announced"] == 1
    assert result["url_after_create"] == "/appointments"
    assert result["notice_after_refusal"] == 0  # not beside the next form's refusal
    assert result["notice_after_reload"] == 0
    rows = await admin_conn.fetch(
        "select patient_id, starts_at at time zone 'Europe/Madrid' as local, duration_minutes,"
        " location from appointments"
    )
    assert [tuple(r) for r in rows] == [
        (patient["id"], datetime(2030, 6, 3, 9, 30), 45, "Room 7"),
    ]
    assert (
        await admin_conn.fetchval(
            "select count(*) from appointments where patient_id = $1", stranger["id"]
        )
        == 0
    )
    assert result["reschedule_error"].startswith("New time: enter the new date and time")

    # Compose: a forged send time names Date and time; nothing is scheduled.
    assert result["compose_time_error"].startswith("Date and time: enter the date and time")
    assert result["compose_time_field"]["invalid"] is True
    assert result["compose_time_field"]["described"] is True
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where kind = 'free_text'"
        )
        == 0
    )

    # The header on a phone: one line; the menu opens, holds everything, closes on navigation.
    assert result["phone_header_height"] <= 64, result["phone_header_height"]
    assert result["phone_menu_expanded"] == "false"
    assert result["phone_nav_visible"] is False
    assert result["phone_menu_open"] == {
        "expanded": "true",
        "links": 8,
        "clinic": True,
        "sign_out": True,
        "overflow": 0,
    }
    assert result["phone_menu_after_navigation"] == "false"
    assert result["phone_caption_right"] <= 344, result["phone_caption_right"]  # inside its panel
    assert result["phone_actions_right"] <= 344, result["phone_actions_right"]  # Move, Cancel
    assert result["phone_when_label"] == '"When"'
    assert result["keyboard_first"] == "Skip to content"
    assert result["keyboard_second"] == "Menu"
    assert result["keyboard_in_menu"] == "Patients"
    assert result["keyboard_after_escape"] == {"focus": "Menu", "expanded": "false"}
    # A wide screen: the whole bar, no Menu button.
    assert result["wide"]["menu_button"] is False
    assert result["wide"]["nav"] is True and result["wide"]["sign_out"] is True

    for shot in (
        "appointment-refused",
        "appointment-created",
        "header-phone",
        "header-phone-open",
        "appointments-phone",
    ):
        assert (SCREENSHOTS / f"{shot}.png").stat().st_size > 3_000
