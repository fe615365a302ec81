"""The clinician dashboard end to end, in headless Chromium against real processes.

Arranges a fresh migrated database, two clinics (through the dashboard's own
``create-clinician`` script), the fake Telegram server, a real ``medremind worker`` subprocess and
the real Python web API (``medremind web``, which the dashboard's server calls to validate
templates with an API key of clinic A) and the built NextJS server (``next start``), then runs
``dashboard/e2e/dashboard.e2e.mjs`` (playwright-core driving Debian's chromium). The browser
script signs in, creates a patient, sends a message and watches it become ``sent`` with its
attempt, sees a template with a sandbox escape refused with the Python API's message and a valid
one saved, composes from that template (one patient: sent, rendered by the worker; a group; a
forged template name refused, naming the field), cancels a scheduled one, creates and cancels an
appointment, checks that a clinician of another clinic sees none of it, and saves
screenshots to ``test-artifacts/screenshots/``. This test then checks the database and the fake.

Needs node and chromium (``make dashboard-test`` installs and builds); skipped without them.
The dashboard is built here when ``dashboard/.next`` is missing or older than its sources.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.db import Database
from medremind.api_keys import create_api_key
from scheduler.appointments import plan_appointment, sync_appointments
from tests.chromium_binary import CHROMIUM
from tests.cli_processes import spawn_cli
from tests.dashboard.browser_server import browser_env
from tests.factories import create_medication, create_patient
from tests.fakes.fake_telegram import FakeTelegram
from tests.ports import free_port
from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
TOKEN = "123456:DASHBOARD-e2e"
CHAT_ID = "551234567"
WEBHOOK_SECRET = "e2e-webhook-secret-" + "w" * 16
PASSWORD_A = "correct horse battery A"
PASSWORD_B = "correct horse battery B"
# The backslash: a name is filled into group messages as written (regexp_replace treats "\\&"
# in its replacement as the match).
SEEDED_NAME = "Ana Seeded \\& Co"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not os.access(CHROMIUM, os.X_OK),
    reason=f"dashboard e2e needs node and chromium at {CHROMIUM} (see make dashboard-test)",
)


def _run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    """Run a command in dashboard/, failing the test with its output when it fails."""
    done = subprocess.run(
        cmd, cwd=DASHBOARD, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(cmd[:3])} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _newest_source_mtime() -> float:
    paths = [
        DASHBOARD / "package-lock.json",
        DASHBOARD / "next.config.mjs",
        DASHBOARD / "tsconfig.json",
    ]
    paths += [p for p in (DASHBOARD / "src").rglob("*") if p.is_file()]
    return max(p.stat().st_mtime for p in paths)


# What `next start` reads from a finished build.
BUILD_FILES = ("BUILD_ID", "prerender-manifest.json", "routes-manifest.json", "build-manifest.json")


def _ensure_built(env: dict[str, str]) -> None:
    """npm ci when node_modules is missing; next build when the build is missing or stale.

    One pytest-xdist worker at a time: a second `next build` into the same ``.next`` while the
    first one's server starts leaves it without its manifests."""
    with (DASHBOARD / ".build-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (DASHBOARD / "node_modules" / "next").is_dir():
            _run(["npm", "ci", "--no-audit", "--no-fund"], env=env)
        build_id = DASHBOARD / ".next" / "BUILD_ID"
        # A build cut short (or two at once) may leave BUILD_ID without the manifests.
        whole = all((DASHBOARD / ".next" / name).exists() for name in BUILD_FILES)
        if not whole or build_id.stat().st_mtime < _newest_source_mtime():
            _run(["npm", "run", "build"], env=env)


@contextmanager
def _process(
    cmd: list[str], *, cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A background process whose output goes to ``log``; terminated (then killed) on exit."""
    with log.open("wb") as out:
        if cmd[:3] == [sys.executable, "-m", "medremind.cli"]:
            proc = spawn_cli(cmd[3:], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        else:
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    """Wait until ``url`` answers (any HTTP status), or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"{url} did not answer:\n{log.read_text(errors='replace')}")


def _create_clinician(
    env: dict[str, str], email: str, password: str, org: str, role: str = "admin"
) -> dict[str, str]:
    # A clinic's first clinician is its admin (settings and templates are an admin's to change).
    out = _run(
        [
            "node",
            "scripts/create-clinician.mjs",
            "--email",
            email,
            "--password",
            password,
            "--org-name",
            org,
            "--display-name",
            f"Dr {org}",
            "--role",
            role,
        ],
        env=env,
        timeout=60,
    )
    return json.loads(out.strip().splitlines()[-1])


async def _seed_adherence(conn: asyncpg.Connection, organization_id: str) -> None:
    """A patient with answered doses (7 days: 2 of 3 taken; 30 days: 3 of 4), an opted-out SMS
    number and a caregiver, so the list and patient pages show real adherence and channel state."""
    patient = await create_patient(
        conn,
        uuid.UUID(organization_id),
        display_name=SEEDED_NAME,
        contacts={"telegram": "551000001", "sms": "+34600000001"},
    )
    await conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1 and channel = 'sms'",
        patient["id"],
    )
    await conn.execute(
        "insert into caregivers (patient_id, name, channel, address) values ($1, $2, 'sms', $3)",
        patient["id"],
        "Luis Seeded",
        "+34600000002",
    )
    # A caregiver who sent STOP (bot.sql opt_out_contact): the page says alerts stopped.
    await conn.execute(
        "insert into caregivers (patient_id, name, channel, address, opted_out_at)"
        " values ($1, 'Eva Stopped', 'sms', '+34600000003', now())",
        patient["id"],
    )
    medication, schedule = await create_medication(conn, patient["id"], name="Seededol")
    now = datetime.now(UTC)
    for days_ago, status in ((1, "taken"), (2, "taken"), (3, "missed"), (10, "taken")):
        due = (now - timedelta(days=days_ago)).replace(second=0, microsecond=0)
        await conn.execute(
            "insert into dose_events (schedule_id, medication_id, patient_id, due_at, local_date,"
            " local_time, status, answered_at, answered_channel, caregiver_alerted_at)"
            " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            schedule["id"],
            medication["id"],
            patient["id"],
            due,
            due.date(),
            due.time(),
            status,
            due + timedelta(minutes=5) if status == "taken" else None,
            "telegram" if status == "taken" else None,
            due if status == "missed" else None,
        )


async def _seed_unreachable(conn: asyncpg.Connection, organization_id: str) -> str:
    """A patient reminded before whose only channel, SMS, sent STOP: no reminder can reach them
    (migration 20260101013300 sets unreachable_since; 20260101013800: once linked), which their
    page says."""
    patient = await create_patient(
        conn,
        uuid.UUID(organization_id),
        display_name="Una Unreachable",
        contacts={"sms": "+34600000009"},
    )
    earlier = datetime.now(UTC) - timedelta(days=1)
    await conn.execute(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time, platform,"
        " kind, status, sent_at) values ($1, 'Welcome.', $2, 'sms', 'system', 'sent', $2)",
        patient["id"],
        earlier,
    )
    await conn.execute(
        "update contact_points set opted_out_at = now() where patient_id = $1", patient["id"]
    )
    assert await conn.fetchval(
        "select unreachable_since is not null from patients where id = $1", patient["id"]
    )
    return str(patient["id"])


async def _seed_failed_and_outbox(conn: asyncpg.Connection) -> dict[str, str]:
    """The seeded patient's failed Telegram message (the bot was blocked then; unblocked since)
    and a message a worker without SMS credentials wrote to the outbox, each with its attempt."""
    patient_id = await conn.fetchval("select id from patients where display_name = $1", SEEDED_NAME)
    earlier = datetime.now(UTC) - timedelta(hours=3)
    failed_id = await conn.fetchval(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time, platform,"
        " kind, status, attempts, last_error, channels_tried)"
        " values ($1, 'Your pharmacy order is ready.', $2, 'telegram', 'system', 'failed', 1,"
        " 'telegram: Forbidden: bot was blocked by the user', '{telegram}') returning id",
        patient_id,
        earlier,
    )
    await conn.execute(
        "insert into message_delivery_attempts (message_id, attempt_time, status, channel,"
        " error_class, error_message) values ($1, $2, 'failed', 'telegram', 'permanent',"
        " 'telegram: Forbidden: bot was blocked by the user')",
        failed_id,
        earlier,
    )
    outbox_id = await conn.fetchval(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time, platform,"
        " kind, status, attempts, sent_at, channel_used, provider_message_id)"
        " values ($1, 'Flu shots start next week.', $2, 'sms', 'system', 'sent', 1, $2, 'sms',"
        " 'outbox:20261203T080000000000Z-sms-0a1b2c3d.json') returning id",
        patient_id,
        earlier,
    )
    await conn.execute(
        "insert into message_delivery_attempts (message_id, attempt_time, status, channel,"
        " provider_message_id) values ($1, $2, 'sent', 'sms',"
        " 'outbox:20261203T080000000000Z-sms-0a1b2c3d.json')",
        outbox_id,
        earlier,
    )
    return {"patient": str(patient_id), "failed": str(failed_id), "outbox": str(outbox_id)}


async def _pending_reminders(conn: asyncpg.Connection, appointment_id: uuid.UUID) -> list[datetime]:
    """When the appointment's pending reminders are due, in order."""
    rows = await conn.fetch(
        "select scheduled_time from scheduled_messages where appointment_id = $1"
        " and kind = 'appointment_reminder' and status = 'pending' order by scheduled_time",
        appointment_id,
    )
    return [r["scheduled_time"] for r in rows]


async def _seed_planned_appointment(conn: asyncpg.Connection) -> uuid.UUID:
    """A confirmed appointment of the seeded patient in three days, at a whole minute (what the
    dashboard's datetime-local form shows and sends back), with its reminders planned."""
    patient_id = await conn.fetchval("select id from patients where display_name = $1", SEEDED_NAME)
    now = datetime.now(UTC)
    starts_at = (now + timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    appointment_id: uuid.UUID = await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at, location)"
        " select organization_id, id, $2, 'Room 9' from patients where id = $1 returning id",
        patient_id,
        starts_at,
    )
    await plan_appointment(conn, appointment_id, now)
    await conn.execute(
        "update appointments set status = 'confirmed', planned_status = 'confirmed' where id = $1",
        appointment_id,
    )
    return appointment_id


async def test_dashboard_end_to_end(
    database_url: str, admin_conn: asyncpg.Connection, db: Database, tmp_path: Path
) -> None:
    base_env = service_env()
    base_env["NEXT_TELEMETRY_DISABLED"] = "1"
    _ensure_built(base_env)

    db_env = base_env | {"DATABASE_URL": database_url}
    clinic_a = _create_clinician(db_env, "a@clinic-a.test", PASSWORD_A, "Clinic A")
    clinic_b = _create_clinician(db_env, "b@clinic-b.test", PASSWORD_B, "Clinic B")
    assert clinic_a["organization_id"] != clinic_b["organization_id"]
    await _seed_adherence(admin_conn, clinic_a["organization_id"])
    unreachable_id = await _seed_unreachable(admin_conn, clinic_a["organization_id"])
    seeded_messages = await _seed_failed_and_outbox(admin_conn)
    seeded_appointment = await _seed_planned_appointment(admin_conn)
    planned_reminders = await _pending_reminders(admin_conn, seeded_appointment)
    assert len(planned_reminders) == 2  # 24 h and 2 h before
    # The run must not depend on the hour: no quiet window for these clinics (start = end).
    await admin_conn.execute(
        "update organizations set default_quiet_start = '00:00', default_quiet_end = '00:00'"
    )

    # One service key (clinic A's) for the dashboard: template validation is the same for every
    # clinic, so the key's organization does not matter.
    api_key = await create_api_key(db.pool, clinic_a["organization_id"], "dashboard e2e")
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    result_file = tmp_path / "e2e-result.json"
    with FakeTelegram(token=TOKEN) as telegram:
        worker_env = db_env | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "MEDREMIND_DATA_DIR": str(tmp_path / "data"),
            "MEDREMIND_OUTBOX_DIR": str(tmp_path / "outbox"),
            "MEDREMIND_WORKER_POLL_SECONDS": "1",
            "MEDREMIND_DB_POOL_MAX": "4",
        }
        web_env = db_env | {
            # The patient's chat reaches the bot through the web's webhook (the invite link).
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PORT": str(api_port),
            "MEDREMIND_DATA_DIR": str(tmp_path / "web-data"),
            "MEDREMIND_OUTBOX_DIR": str(tmp_path / "web-outbox"),
            "MEDREMIND_DB_POOL_MAX": "2",
        }
        next_env = db_env | {
            "MEDREMIND_API_URL": api_url,
            "MEDREMIND_API_KEY": api_key,
            "DASHBOARD_SESSION_SECRET": secrets.token_urlsafe(48),
            "DASHBOARD_COOKIE_SECURE": "false",
            "TELEGRAM_BOT_USERNAME": "medremind_test_bot",
            "NODE_ENV": "production",
        }
        worker_log, next_log = tmp_path / "worker.log", tmp_path / "next.log"
        web_log = tmp_path / "web.log"
        with (
            _process(
                [sys.executable, "-m", "medremind.cli", "worker"],
                cwd=ROOT,
                env=worker_env,
                log=worker_log,
            ),
            _process(
                [sys.executable, "-m", "medremind.cli", "web"],
                cwd=ROOT,
                env=web_env,
                log=web_log,
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
            with browser_env(CHROMIUM) as browser:
                e2e = subprocess.run(
                    ["node", "e2e/dashboard.e2e.mjs"],
                    cwd=DASHBOARD,
                    env=base_env
                    | {
                        "BASE_URL": base_url,
                        **browser,
                        "CLINICIAN_A_EMAIL": "a@clinic-a.test",
                        "CLINICIAN_A_PASSWORD": PASSWORD_A,
                        "CLINICIAN_B_EMAIL": "b@clinic-b.test",
                        "CLINICIAN_B_PASSWORD": PASSWORD_B,
                        "PATIENT_CHAT_ID": CHAT_ID,
                        "API_URL": api_url,
                        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
                        "SEEDED_PATIENT_NAME": SEEDED_NAME,
                        "SEEDED_PATIENT_ID": seeded_messages["patient"],
                        "UNREACHABLE_PATIENT_ID": unreachable_id,
                        "FAILED_MESSAGE_ID": seeded_messages["failed"],
                        "OUTBOX_MESSAGE_ID": seeded_messages["outbox"],
                        "SCREENSHOT_DIR": str(SCREENSHOTS),
                        "RESULT_FILE": str(result_file),
                        "SENT_TIMEOUT_MS": "60000",
                    },
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
            if e2e.returncode != 0:
                pytest.fail(
                    f"browser script exited {e2e.returncode}:\n{e2e.stdout}\n{e2e.stderr}\n"
                    f"--- worker log (tail) ---\n{worker_log.read_text(errors='replace')[-4000:]}\n"
                    f"--- web log (tail) ---\n{web_log.read_text(errors='replace')[-4000:]}\n"
                    f"--- next log (tail) ---\n{next_log.read_text(errors='replace')[-4000:]}"
                )
        sent_calls = [c for c in telegram.sent_messages if str(c.chat_id) == CHAT_ID]

    result = json.loads(result_file.read_text())
    org_a = clinic_a["organization_id"]

    # The patient was created in clinic A; its Telegram contact point is the chat that opened the
    # invite link (the form has no chat id to type, and a forged one was refused).
    patient = await admin_conn.fetchrow(
        "select * from patients where id = $1", result["patient_id"]
    )
    assert patient is not None
    assert str(patient["organization_id"]) == org_a
    assert patient["display_name"] == result["patient_name"]
    assert patient["consent_at"] is not None
    assert patient["timezone"] == "Europe/Madrid"  # typed "europe/madrid": stored canonical
    contacts = await admin_conn.fetch(
        "select channel, address, verified from contact_points where patient_id = $1",
        patient["id"],
    )
    assert [tuple(c) for c in contacts] == [("telegram", CHAT_ID, True)]

    # The message the worker sent: status, the attempt, and what the fake Telegram received.
    sent = await admin_conn.fetchrow(
        "select * from scheduled_messages where id = $1", result["sent_message_id"]
    )
    assert sent["status"] in ("sent", "delivered")
    assert str(sent["organization_id"]) == org_a
    assert sent["created_by"] is not None and str(sent["created_by"]) == clinic_a["clinician_id"]
    assert sent["channel_used"] == "telegram"
    # Compose to one patient filled in their name and the clinic's, as the preview showed.
    assert sent["message_content"] == (
        f"Hello {result['patient_name']}, from Clinic A:"
        " please bring your medicines list on Monday."
    )
    attempts = await admin_conn.fetch(
        "select status, channel from message_delivery_attempts where message_id = $1", sent["id"]
    )
    assert [(a["status"], a["channel"]) for a in attempts] == [("sent", "telegram")]
    # The three composed messages, and the cancelled appointment's notice when the worker got to
    # it before the end (it is not deferred: the processes run with quiet hours off).
    # The bot's own dialogue with the chat (the invite's consent and what follows) is not counted.
    composed = ("bring your medicines list", "test results are ready", "this is Clinic A")
    cancelled = [c for c in sent_calls if "has been cancelled" in (c.text or "")]
    texts = [c.text or "" for c in sent_calls if any(k in (c.text or "") for k in composed)]
    assert len(cancelled) <= 1
    assert len(texts) == 3
    assert sum("bring your medicines list" in t for t in texts) == 1
    assert sum("test results are ready" in t for t in texts) == 1

    # Composed from the clinic's template: the row names it (no text of its own) and the worker
    # sent the template rendered for this patient, keeping that text on the row.
    from_template = await admin_conn.fetchrow(
        "select * from scheduled_messages where id = $1", result["template_message_id"]
    )
    assert (from_template["template"], from_template["kind"]) == ("Blood test", "free_text")
    assert from_template["message_content"] == f"Hello {result['patient_name']}, this is Clinic A."
    assert from_template["status"] in ("sent", "delivered")
    assert from_template["channel_used"] == "telegram"
    assert f"Hello {result['patient_name']}, this is Clinic A." in [t.strip() for t in texts]

    # "Send now" moved the scheduled one to now, and the worker sent it.
    sent_now = await admin_conn.fetchrow(
        "select status, scheduled_time < now() + interval '1 hour' as moved"
        " from scheduled_messages where id = $1",
        result["sent_now_message_id"],
    )
    assert sent_now["status"] in ("sent", "delivered") and sent_now["moved"]

    # The cancelled one never went out.
    cancelled = await admin_conn.fetchrow(
        "select status, attempts from scheduled_messages where id = $1",
        result["cancelled_message_id"],
    )
    assert (cancelled["status"], cancelled["attempts"]) == ("cancelled", 0)

    # The appointment was created and cancelled in clinic A.
    appointment = await admin_conn.fetchrow(
        "select organization_id, status from appointments where patient_id = $1", patient["id"]
    )
    assert (str(appointment["organization_id"]), appointment["status"]) == (org_a, "cancelled")

    # "Move" to the time it already had: the appointment is scheduled again and the reminders
    # planned for that time are still pending, also once the planner has caught up (it re-plans
    # only when starts_at moved, so reminders the dashboard cancelled would never come back).
    moved = await admin_conn.fetchrow(
        "select status, starts_at = planned_starts_at as same_time from appointments where id = $1",
        seeded_appointment,
    )
    assert (moved["status"], moved["same_time"]) == ("scheduled", True)
    await sync_appointments(admin_conn, datetime.now(UTC))
    assert await _pending_reminders(admin_conn, seeded_appointment) == planned_reminders

    # The invite: only the token's SHA-256 is stored, for A's patient, used by the patient's chat.
    invite = await admin_conn.fetchrow(
        "select organization_id, token_hash, used_at, expires_at > now() as live"
        " from patient_invites where patient_id = $1",
        patient["id"],
    )
    assert str(invite["organization_id"]) == org_a
    assert invite["token_hash"] == hashlib.sha256(result["invite_token"].encode()).hexdigest()
    assert invite["used_at"] is not None  # the patient's chat joined by it
    # The New patient form with Telegram: no address field, and what to do instead.
    assert "Telegram chat: linked by the patient" in result["telegram_hint"]
    assert "Make an invite link" in result["telegram_hint"]
    assert "telegram-link-hint" in result["channel_described_by"].split()
    # A forged chat id was refused first, naming Telegram and how to link the chat; the name
    # typed stays.
    assert result["telegram_typed_error"].startswith("Telegram: a chat id cannot be typed in")
    assert "Make an invite link" in result["telegram_typed_error"]
    assert result["telegram_typed_channel_invalid"] == "true"
    assert result["telegram_typed_name_kept"] == result["patient_name"]
    # Until the patient opened the link, their page said the chat is not linked yet.
    assert result["telegram_not_linked"].startswith("Telegram is not linked yet")
    # ... and, at the top, that no reminder can go until then: a notice, not the unreachable
    # alarm (nobody failed to reach them; migration 20260101013600).
    assert result["patient_not_linked"].startswith("Not linked yet.")
    assert "not missed" in result["patient_not_linked"]
    assert result["not_linked_alarms"] == 0

    # The group messages reached the one matching patient: the free text with the name filled
    # in, and the one from the template naming it (the worker renders it when due).
    group = await admin_conn.fetch(
        "select m.status, m.message_content, m.template from scheduled_messages m"
        " join patients p on p.id = m.patient_id"
        " where p.display_name = $1 and m.kind = 'free_text'"
        " order by m.template nulls first",
        SEEDED_NAME,
    )
    assert [(g["status"], g["message_content"], g["template"]) for g in group] == [
        ("pending", f"The clinic is closed on Friday, {SEEDED_NAME}.", None),
        ("pending", None, "Blood test"),
    ]

    # The forged template name inserted nothing.
    templates_used = await admin_conn.fetch(
        "select distinct template from scheduled_messages where template is not null"
    )
    assert [t["template"] for t in templates_used] == ["Blood test"]

    # The template was saved for clinic A only (the refused sandbox escape was not).
    templates = await admin_conn.fetch("select organization_id, name, body from message_templates")
    assert [(str(t["organization_id"]), t["name"]) for t in templates] == [(org_a, "Blood test")]

    # Clinic B has nothing, and its forged compose for A's patient inserted nothing.
    assert (
        await admin_conn.fetchval(
            "select count(*) from patients where organization_id = $1", clinic_b["organization_id"]
        )
        == 0
    )
    forged = await admin_conn.fetchval(
        "select count(*) from scheduled_messages"
        " where created_by = $1 or message_content like 'Forged%'",
        uuid.UUID(clinic_b["clinician_id"]),
    )
    assert forged == 0

    # "Re-send" made one pending copy of the failed message, which the worker sent on Telegram
    # (a real send, not the outbox); the failed row keeps its status and its attempt; audited.
    copy = await admin_conn.fetchrow(
        "select * from scheduled_messages where resent_from = $1",
        uuid.UUID(seeded_messages["failed"]),
    )
    assert str(copy["id"]) == result["resent_copy_id"]
    assert copy["status"] in ("sent", "delivered") and copy["channel_used"] == "telegram"
    assert copy["via_outbox"] is False
    assert copy["message_content"] == "Your pharmacy order is ready."
    assert str(copy["created_by"]) == clinic_a["clinician_id"]
    kept = await admin_conn.fetchrow(
        "select status, (select count(*) from message_delivery_attempts a"
        " where a.message_id = m.id) as attempts from scheduled_messages m where id = $1",
        uuid.UUID(seeded_messages["failed"]),
    )
    assert (kept["status"], kept["attempts"]) == ("failed", 1)
    audit = await admin_conn.fetch(
        "select actor, entity_id, details from audit_log where action = 'message.resend'"
    )
    assert [(a["actor"], a["entity_id"]) for a in audit] == [
        (f"clinician:{clinic_a['clinician_id']}", str(copy["id"]))
    ]

    # The screenshots exist at both widths.
    for page in ("patients", "patient", "messages", "compose", "appointments"):
        for size in ("desktop", "tablet"):
            assert (SCREENSHOTS / f"{page}-{size}.png").stat().st_size > 0
    for page in ("messages-failed", "messages-resent", "patient-resent"):
        assert (SCREENSHOTS / f"{page}-desktop.png").stat().st_size > 0
