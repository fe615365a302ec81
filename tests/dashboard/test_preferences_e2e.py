"""Clinic templates previewed with real data, and preferences set by the clinic (issue 17), end to
end: headless Chromium against ``next start`` with the Python API (``medremind web``) behind it.

The browser script (``dashboard/e2e/preferences.e2e.mjs``) saves an appointment reminder text as
the clinic's automatic template on the Templates page; the patient page then shows the patient's
actual next reminder rendered by the API with that template and the patient's real appointment
(and, for a Spanish patient, the built-in Spanish text and why); the clinic sets its choices and
standing offsets, and cannot turn on what the patient turned off. Screenshot
``test-artifacts/screenshots/patient-next-message.png``. Skipped without node and chromium."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.db import Database
from medremind.api_keys import create_api_key
from scheduler.appointments import plan_appointment
from tests.dashboard.test_dashboard_e2e import (
    CHROMIUM,
    DASHBOARD,
    ROOT,
    SCREENSHOTS,
    _create_clinician,
    _ensure_built,
    _free_port,
    _process,
    _wait_http,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_patient
from tests.process_env import service_env

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
    base_env = service_env()
    base_env["NEXT_TELEMETRY_DISABLED"] = "1"
    _ensure_built(base_env)
    db_env = base_env | {"DATABASE_URL": database_url}
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
    api_port, port = _free_port(), _free_port()
    api_url, base_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{port}"
    web_env = db_env | {
        "PORT": str(api_port),
        "MEDREMIND_DATA_DIR": str(tmp_path / "web-data"),
        "MEDREMIND_DB_POOL_MAX": "2",
    }
    next_env = db_env | {
        "MEDREMIND_API_URL": api_url,
        "MEDREMIND_API_KEY": api_key,
        "DASHBOARD_SESSION_SECRET": secrets.token_urlsafe(48),
        "DASHBOARD_COOKIE_SECURE": "false",
        "NODE_ENV": "production",
    }
    web_log, next_log = tmp_path / "web.log", tmp_path / "next.log"
    result_file = tmp_path / "result.json"
    with (
        _process(
            [sys.executable, "-m", "medremind.cli", "web"], cwd=ROOT, env=web_env, log=web_log
        ) as web_server,
        _process(
            [
                "node",
                "node_modules/next/dist/bin/next",
                "start",
                "-p",
                str(port),
                "-H",
                "127.0.0.1",
            ],
            cwd=DASHBOARD,
            env=next_env,
            log=next_log,
        ) as next_server,
    ):
        _wait_http(f"{api_url}/healthz", web_server, web_log)
        _wait_http(f"{base_url}/login", next_server, next_log)
        e2e = subprocess.run(
            ["node", "e2e/preferences.e2e.mjs"],
            cwd=DASHBOARD,
            env=base_env
            | {
                "BASE_URL": base_url,
                "CHROMIUM_PATH": CHROMIUM,
                "CLINICIAN_EMAIL": "prefs@clinic.test",
                "CLINICIAN_PASSWORD": PASSWORD,
                "ANA_ID": str(ana["id"]),
                "BETO_ID": str(beto["id"]),
                "SCREENSHOT_DIR": str(SCREENSHOTS),
                "RESULT_FILE": str(result_file),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert e2e.returncode == 0, (
            f"{e2e.stdout}\n{e2e.stderr}\n--- next log ---\n{next_log.read_text()[-3000:]}"
            f"\n--- web log ---\n{web_log.read_text()[-3000:]}"
        )

    result = json.loads(result_file.read_text())
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
