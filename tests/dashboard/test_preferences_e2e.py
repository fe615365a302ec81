"""Clinic templates previewed with real data, and preferences set by the clinic (issue 17), end to
end: headless Chromium against ``next start`` with the Python API (``medremind web``) behind it.

The browser script (``dashboard/e2e/preferences.e2e.mjs``) saves an appointment reminder text as
the clinic's automatic template on the Templates page; the patient page then shows the patient's
actual next reminder rendered by the API with that template and the patient's real appointment
(and, for a Spanish patient, the built-in Spanish text and why); the clinic sets its choices and
standing offsets, and cannot turn on what the patient turned off. Screenshot
``test-artifacts/screenshots/patient-next-message.png``. Skipped without node and chromium."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.db import Database
from medremind.api_keys import create_api_key
from scheduler.appointments import plan_appointment
from tests.dashboard.harness import built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    _create_clinician,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient

PASSWORD = "correct horse battery prefs"


async def _patient_with_reminder(
    conn: asyncpg.Connection, org_id: uuid.UUID, name: str, locale: str, chat: str
) -> asyncpg.Record:
    """A patient with an appointment in two days whose next automatic message is its reminder."""
    patient = await create_patient(
        conn, org_id, contacts={"telegram": chat}, display_name=name, locale=locale
    )
    now = datetime.now(UTC)
    appointment = await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at, location)"
        " values ($1, $2, $3, 'Room 4') returning id",
        org_id,
        patient["id"],
        now + timedelta(days=2),
    )
    await plan_appointment(conn, appointment, now)
    # The confirmation went out already: the next automatic message is the 24 h reminder.
    await conn.execute(
        "update scheduled_messages set status = 'sent', sent_at = now()"
        " where appointment_id = $1 and kind = 'appointment_confirmation'",
        appointment,
    )
    return patient


async def test_template_preview_and_preferences(
    database_url: str, admin_conn: asyncpg.Connection, db: Database, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    clinic = _create_clinician(db_env, "prefs@clinic.test", PASSWORD, "Lakeside Clinic")
    org_id = uuid.UUID(clinic["organization_id"])
    ana = await _patient_with_reminder(admin_conn, org_id, "Ana Real", "en", "551230001")
    beto = await _patient_with_reminder(admin_conn, org_id, "Beto Real", "es", "551230002")
    # Ana opted out of medication reminders herself (the bot's /settings).
    await admin_conn.execute(
        "insert into patient_preferences (patient_id, category, patient_choice)"
        " values ($1, 'medication', 'out')",
        ana["id"],
    )
    assert db.pool is not None
    api_key = await create_api_key(db.pool, clinic["organization_id"], "dashboard e2e")
    run = run_dashboard_script(
        "preferences.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        next_env={"MEDREMIND_API_KEY": api_key},
        script_env={
            "CLINICIAN_EMAIL": "prefs@clinic.test",
            "CLINICIAN_PASSWORD": PASSWORD,
            "ANA_ID": str(ana["id"]),
            "BETO_ID": str(beto["id"]),
        },
    )

    result = run.result
    # The editor's preview of an automatic text before Check text showed it as typed, its
    # {{ starts_at|date }} and {{ location }} unfilled: now none until the service renders it,
    # then the text with the service's sample values.
    assert "{{" not in result["unchecked_preview"], result["unchecked_preview"]
    assert result["unchecked_preview"].startswith("Press Check text to see it as a patient gets it")
    assert result["checked_preview"].startswith("Riverside Family Clinic: see you ")
    assert "Room 12, second floor" in result["checked_preview"]
    assert "{{" not in result["checked_preview"], result["checked_preview"]
    # Ana's real reminder with the clinic's text: her name, her appointment's day and room.
    starts = await admin_conn.fetchval(
        "select starts_at from appointments where patient_id = $1", ana["id"]
    )
    assert result["ana_text"].startswith("Lakeside Clinic: see you ")
    assert "Ana Real" in result["ana_text"] and "Room 4" in result["ana_text"]
    assert str(starts.day) in result["ana_text"]
    assert 'template "visit-reminder" (en, Telegram)' in result["ana_source"].replace(
        "telegram", "Telegram"
    )
    # Beto (Spanish): no Spanish version, so MedRemind's built-in Spanish text.
    assert result["beto_text"].startswith("Recordatorio: tienes una cita")
    assert "built-in" in result["beto_source"] and "es" in result["beto_source"]

    saved = await admin_conn.fetchval(
        "select automatic from message_templates where organization_id = $1"
        " and name = 'visit-reminder' and kind = 'appointment_reminder'",
        org_id,
    )
    assert saved is True
    prefs = {
        r["category"]: (r["patient_choice"], r["clinic_choice"], r["channel"])
        for r in await admin_conn.fetch(
            "select category, patient_choice, clinic_choice, channel from patient_preferences"
            " where patient_id = $1",
            ana["id"],
        )
    }
    assert prefs["clinic_news"] == (None, "out", None)
    assert prefs["medication"] == ("out", "in", None)  # the clinic's "on" is stored...
    assert await admin_conn.fetchval(
        "select public.patient_opted_out($1, 'medication')", ana["id"]
    )  # ...and the patient's opt-out still wins
    assert result["medication_state"] == "off"
    assert await admin_conn.fetchval(
        "select appointment_reminder_offsets from patients where id = $1", ana["id"]
    ) == [2880, 180]
    assert (SCREENSHOTS / "patient-next-message.png").stat().st_size > 10_000
    # Beto paused for 3 days from his page, then resumed: the API's own pause (the patient's
    # "paused" notice was still waiting, so the resume cancelled it and told nothing), audited as
    # the clinician's; the page said the end in his zone.
    assert "in the patient's time zone (UTC)" in result["pause_state"]
    assert not await admin_conn.fetchval(
        "select reminders_paused from patients where id = $1", beto["id"]
    )
    assert [
        tuple(r)
        for r in await admin_conn.fetch(
            "select template, status from scheduled_messages where patient_id = $1"
            " and template like 'clinic_%' order by created_at",
            beto["id"],
        )
    ] == [("clinic_paused", "cancelled")]
    assert (
        await admin_conn.fetchval(
            "select count(*) from audit_log where entity_id = $1 and actor like 'clinician:%'",
            str(beto["id"]),
        )
        >= 2
    )  # the pause and the resume
    assert (SCREENSHOTS / "patient-paused.png").stat().st_size > 5_000
