"""A clinician's QA pass over the dashboard's forms, the phone width and the keyboard, in headless
Chromium against ``next start`` and a real ``medremind web`` on a fresh database.

The browser script (``dashboard/e2e/forms-keep-input.e2e.mjs``): New patient refused for a phone
number, then a timezone, with typos, then a name of zero-width spaces (each named, its field
marked, everything typed kept; then an external id with a right-to-left override left open,
refused as the API refuses it; then created, a right-to-left override pasted after the name
removed, "US/Eastern" stored as America/New_York as the API stores it); Compose refused for a
placeholder that would reach the patient as typed (the text, the patient, the channel and Urgent
kept), then for a direction override left open in the text (kept; then sent); Settings refused
for an unknown timezone and for reminder offsets that are not minutes (named, kept; then saved);
equal quiet hours explained;
a clinician who is not an admin sees the clinic's defaults read-only; no page scrolls sideways at
360 px; the current section marked in the navigation; keyboard only: sign-in with Tab and Enter,
the skip link first. Each was broken before: a refusal redirected to ``?error=`` and the page
came back empty. Screenshots ``patient-new-refused.png``, ``compose-refused.png``,
``settings-refused.png``, ``statistics-phone.png``. The waitlist refuses From and Until the
same time naming Until, keeping the choices. Skipped without node and chromium.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from core.db import Database
from medremind.api_keys import create_api_key
from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient


async def test_refused_forms_keep_input_phone_width_and_keyboard(
    database_url: str, admin_conn: asyncpg.Connection, db: Database, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    admin, _ = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour Forms",
        ("admin@forms.test", "admin pass 1234"),
        ("nurse@forms.test", "nurse pass 1234"),
    )
    org_id = uuid.UUID(admin["organization_id"])
    # No quiet window: the composed message is due now whatever the hour (it is urgent anyway).
    await admin_conn.execute(
        "update organizations set default_quiet_start = '00:00', default_quiet_end = '00:00',"
        " timezone = 'UTC', appointment_reminder_offsets = '{1440,120}' where id = $1",
        org_id,
    )
    patient = await create_patient(admin_conn, org_id, display_name="Bob Existing")
    # The dashboard checks template texts with the Python API (its sandbox), as in production.
    api_key = await create_api_key(db.pool, admin["organization_id"], "dashboard forms e2e")

    result = run_dashboard_script(
        "forms-keep-input.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        next_env={"MEDREMIND_API_KEY": api_key},
        script_env={
            "ADMIN_EMAIL": "admin@forms.test",
            "ADMIN_PASSWORD": "admin pass 1234",
            "CLINICIAN_EMAIL": "nurse@forms.test",
            "CLINICIAN_PASSWORD": "nurse pass 1234",
            "PATIENT_NAME": "Bob Existing",
        },
    ).result

    # Keyboard only.
    assert result["first_tab_on_login"] == "email"
    assert result["first_tab_in_app"] == "Skip to content"

    # New patient: each refusal names its field, marks it, and keeps every value typed.
    kept = {
        "name": "Nora Newcomer",
        "channel": "sms",
        "timezone": "Europe/Madird",
        "external_id": "EXT-0042",
        "consent": True,
    }
    after_address = result["patient_after_address"]
    # The refusal names what SMS needs, not "or an e-mail address" as it did for every channel.
    assert result["patient_address_error"].startswith(
        "Address: SMS needs a mobile phone number valid for its country, in +E.164 form"
    ), result
    assert "e-mail" not in result["patient_address_error"].lower()
    assert after_address["address"] == {"value": "+1 415 555", "invalid": True, "described": True}
    assert {k: after_address[k]["value"] for k in kept} == kept
    assert not any(after_address[k]["invalid"] for k in kept)
    assert result["patient_locale_after"] == "es"
    assert result["patient_timezone_error"].startswith("Timezone: not a time zone")
    after_timezone = result["patient_after_timezone"]
    assert after_timezone["timezone"] == {
        "value": "Europe/Madird",
        "invalid": True,
        "described": True,
    }
    assert after_timezone["address"]["value"] == "+1 415 555 0142"
    # A name that shows nothing: the database's rule (core/person_names.py), named, kept.
    assert result["patient_name_error"].startswith("Name: it shows nothing"), result
    assert result["patient_after_name"]["name"] == {
        "value": "\u200b\u200b",
        "invalid": True,
        "described": True,
    }
    assert result["patient_after_name"]["timezone"]["value"] == "Europe/Madrid"
    assert not after_timezone["address"]["invalid"]
    # An external id with an override left open: refused as the API refuses it, named, kept.
    assert result["patient_external_id_error"].startswith(
        "External id: an invisible direction control"
    ), result
    assert result["patient_after_external_id"]["external_id"] == {
        "value": "EXT-\u202e0042",
        "invalid": True,
        "described": True,
    }
    created = await admin_conn.fetch(
        "select p.id, p.timezone, p.locale, p.external_id, p.consent_at is not null as consented,"
        " c.channel, c.address from patients p join contact_points c on c.patient_id = p.id"
        " where p.display_name = 'Nora Newcomer'"
    )
    assert [dict(r) for r in created] == [
        {
            "id": uuid.UUID(result["created_patient_id"]),
            "timezone": "America/New_York",  # typed US/Eastern, stored as the API does
            "locale": "es",
            "external_id": "EXT-0042",
            "consented": True,
            "channel": "sms",
            "address": "+14155550142",
        }
    ]

    # Message preferences: unreadable reminder times refused at the form, the choices kept.
    assert result["prefs_error"].startswith("Appointment reminder times:"), result
    assert result["prefs_after"] == {
        "clinic_news": "out",
        "medication_channel": "sms",
        "offsets": "24h and 2h",
        "offsets_invalid": "true",
        "offsets_described": "pref-offsets-hint preferences-error",
    }
    assert result["prefs_saved_offsets_invalid"] is None
    prefs = await admin_conn.fetch(
        "select category, clinic_choice, channel from patient_preferences where patient_id = $1"
        " order by category",
        uuid.UUID(result["created_patient_id"]),
    )
    assert ("clinic_news", "out", None) in [tuple(r) for r in prefs], prefs
    assert ("medication", None, "sms") in [tuple(r) for r in prefs], prefs

    # Compose: refused without losing the text or the choices; nothing inserted until corrected.
    assert result["compose_error"].startswith("Message: only {{ patient_name }}")
    assert result["compose_text_kept"] is True
    assert result["compose_direction_error"].startswith(
        "Message: an invisible direction control"
    ), result
    assert result["compose_direction_kept"] is True
    assert (result["compose_channel_after"], result["compose_urgent_after"]) == ("telegram", True)
    assert result["compose_patient_after"] == "Bob Existing"
    assert result["composed_for"] == str(patient["id"])
    sent = await admin_conn.fetch(
        "select message_content, platform, priority from scheduled_messages where patient_id = $1",
        patient["id"],
    )
    assert len(sent) == 1
    assert sent[0]["platform"] == "telegram"
    assert sent[0]["message_content"].startswith("Dear Bob Existing, your results from the lab")

    # Navigation marks the current section (Compose, not Scheduled messages, on /messages/new).
    assert result["current_on_compose"] == ["Compose"]
    assert result["current_on_patient"] == ["Patients"]

    # Settings: named and kept; the database unchanged by the refusals, then saved.
    assert "Midnight to midnight (00:00 to 00:00" in result["quiet_hint"]
    # A window of no length other than that is refused (it was stored as none, silently).
    assert result["settings_quiet_error"].startswith(
        "Default quiet hours: the start and the end are the same time"
    ), result["settings_quiet_error"]
    assert result["settings_error"].startswith("Timezone: not a time zone")
    assert result["settings_after"] == {
        "name": {"value": "Harbour Family Clinic", "invalid": False, "described": False},
        "timezone": {"value": "Mars/Olympus_Mons", "invalid": True, "described": True},
        "offsets": {"value": "24h, 1h", "invalid": False, "described": False},
    }
    # Settings took bare minutes, the patient page bare hours: one form now, units required.
    assert result["settings_offsets_error"].startswith(
        "Appointment reminders: type each time with its unit"
    )
    assert result["settings_after_offsets"]["offsets"] == {
        "value": "1440, 60",
        "invalid": True,
        "described": True,
    }
    assert result["settings_after_offsets"]["timezone"]["value"] == "Europe/Lisbon"
    assert result["settings_saved_name"] == "Harbour Family Clinic"
    assert result["settings_saved_offsets"] == "24h 1h"
    org = await admin_conn.fetchrow(
        "select name, timezone, appointment_reminder_offsets as offsets from organizations"
        " where id = $1",
        org_id,
    )
    assert (org["name"], org["timezone"], org["offsets"]) == (
        "Harbour Family Clinic",
        "Europe/Lisbon",
        [1440, 60],
    )

    # Templates: the language and channel chosen survive a refusal and a check, and are saved.
    assert "__class__" in result["template_refused"], result
    spanish_sms = {"kind": "free_text", "locale": "es", "channel": "sms"}
    assert result["template_after_refusal"] == spanish_sms
    assert result["template_after_check"] == spanish_sms
    saved = await admin_conn.fetch(
        "select kind, locale, channel, body from message_templates where name = 'Resultados'"
    )
    assert [tuple(r) for r in saved] == [
        ("free_text", "es", "sms", "Hola {{ patient_name }}, sus resultados están listos.")
    ]

    # Waitlist: the same time for From and Until (no time, or the whole day) named on Until;
    # patient, day, hours and note kept. (Until before From is a night: migration 019470.)
    assert result["waitlist_error"].startswith(
        "Until: type From and Until as two different times"
    ), result
    after = result["waitlist_after"]
    assert after["latest"] == {"value": "12:00", "invalid": True, "described": True}
    assert (after["earliest"]["value"], after["note"]["value"]) == ("12:00", "mornings only")
    assert (after["wed"]["value"], after["thu"]["value"]) == (True, False)
    assert result["waitlist_patient_after"] == "Bob Existing"
    assert "12:00–13:00" in result["waitlist_row"] and "mornings only" in result["waitlist_row"]
    waiting = await admin_conn.fetch(
        "select days_of_week, earliest::text, latest::text from waitlist_entries"
        " where patient_id = $1",
        patient["id"],
    )
    assert [tuple(r) for r in waiting] == [([3], "12:00:00", "13:00:00")]

    # Phone width: no page wider than the screen.
    assert result["phone_overflow"] == dict.fromkeys(result["phone_overflow"], 0)
    assert len(result["phone_overflow"]) == 10
    # The preferences' selects keep a readable width (they were squeezed to one letter).
    widths = result["phone_pref_select_widths"]
    assert len(widths) == 6 and min(widths) >= 140, widths

    # Not an admin: read-only, no save button.
    assert result["clinician_readonly"] == "Only an admin of the clinic can change these."
    assert result["clinician_name_disabled"] is True and result["clinician_save_buttons"] == 0
    assert result["clinician_template_readonly"].startswith("Only an admin of the clinic can save")
    assert result["clinician_template_buttons"] == {"save": 0, "delete": 0, "check": 1}

    for shot in ("patient-new-refused", "compose-refused", "settings-refused", "statistics-phone"):
        assert (SCREENSHOTS / f"{shot}.png").stat().st_size > 5_000
