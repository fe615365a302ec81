"""The 08:00 peak controls of the dashboard (issue 20), end to end in headless Chromium.

``next start`` and a real ``medremind web`` (which holds ``MEDREMIND_CREDENTIALS_KEY`` and asks
the loopback Bot API's ``getMe``) on a fresh database. The browser script
(``dashboard/e2e/capacity.e2e.mjs``): an admin sets the clinic's early send window and paid
broadcast (out of range refused, naming the field), saves the clinic's own Telegram bot (a token
of another bot refused naming the field; the saved bot shown by @username and id, never its
token), marks a medicine time-critical (its pending reminder planned early goes back to the dose's
time at priority 0) and reads why the patient's Telegram chat is blocked and that reminders go by
SMS; a clinician who is not an admin sees the settings read-only, and the database refuses them
the change. The clinic's own cap on messages per patient: 0 refused naming the field, 3 an hour
saved and shown to the clinician read-only. Screenshots ``settings-peak.png``,
``settings-telegram-bot.png``, ``settings-patient-caps.png``, ``patient-blocked-channel.png``,
``patient-time-critical.png``, ``settings-peak-readonly.png``.
Skipped without node and chromium, like the dashboard e2e.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.credentials import new_key
from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import (
    SCREENSHOTS,
    pytestmark,  # noqa: F401 (the same skip)
)
from tests.factories import create_dose_event, create_medication, create_message, create_patient
from tests.fakes.fake_telegram import FakeTelegram

BOT_ID = "4242001"
BOT_TOKEN = f"{BOT_ID}:AAHarbourClinicBotSecret0123456789"
# A well-formed token whose getMe answers for another bot (the fake's default bot).
OTHER_TOKEN = "4242999:AAAnotherBotEntirelyXYZ0123456789"
MEDICINE = "Insulin glargine"


async def _blocked_patient(conn: asyncpg.Connection, org_id: uuid.UUID) -> dict[str, object]:
    """A patient whose Telegram chat blocked the bot an hour ago (SMS still usable), with a
    medicine whose next reminder the planner moved 5 minutes early at routine priority."""
    patient = await create_patient(
        conn,
        org_id,
        contacts={"telegram": "551239001", "sms": "+14155550177"},
        display_name="Rosa Blocked",
    )
    blocked_at = datetime.now(UTC) - timedelta(hours=1)
    await conn.execute(
        "update contact_points set active = false, blocked_at = $2,"
        " last_error = 'telegram: Forbidden: bot was blocked by the user'"
        " where patient_id = $1 and channel = 'telegram'",
        patient["id"],
        blocked_at,
    )
    _, schedule = await create_medication(conn, patient["id"], name=MEDICINE, dose="10 units")
    due = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    dose = await create_dose_event(conn, schedule, due)
    reminder = await create_message(
        conn,
        patient["id"],
        kind="medication_reminder",
        message_content=None,
        template="medication_reminder",
        dose_event_id=dose["id"],
        scheduled_time=due - timedelta(minutes=5),
        priority=1,
    )
    return {"id": patient["id"], "due": due, "reminder": reminder["id"]}


async def _update_as(conn: asyncpg.Connection, clinician_id: str, statement: str) -> None:
    """Run ``statement`` as the dashboard does: role authenticated, the clinician's claims."""
    claims = json.dumps({"sub": clinician_id, "role": "authenticated"})
    async with conn.transaction():
        await conn.execute("set local role authenticated")
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        await conn.execute(statement)


async def test_peak_settings_clinic_bot_time_critical_and_blocked_chat(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    admin, plain = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour Peak",
        ("admin@peak.test", "admin pass 1234"),
        ("nurse@peak.test", "nurse pass 1234"),
    )
    org_id = uuid.UUID(admin["organization_id"])
    patient = await _blocked_patient(admin_conn, org_id)

    with FakeTelegram(token=None) as telegram:
        telegram.usernames = {BOT_TOKEN: "harbour_peak_bot"}
        run = run_dashboard_script(
            "capacity.e2e.mjs",
            db_env=db_env,
            tmp_path=tmp_path,
            web_env={
                "MEDREMIND_CREDENTIALS_KEY": new_key(),
                "TELEGRAM_API_BASE_URL": telegram.base_url,
            },
            script_env={
                "ADMIN_EMAIL": "admin@peak.test",
                "ADMIN_PASSWORD": "admin pass 1234",
                "CLINICIAN_EMAIL": "nurse@peak.test",
                "CLINICIAN_PASSWORD": "nurse pass 1234",
                "PATIENT_ID": str(patient["id"]),
                "MEDICATION_NAME": MEDICINE,
                "BOT_TOKEN": BOT_TOKEN,
                "OTHER_BOT_TOKEN": OTHER_TOKEN,
            },
        )

    result = run.result
    # The peak settings: refused out of range (naming the field), then saved and explained.
    assert result["browser_blocks_61"] is True
    assert result["early_error"].startswith("Medication reminders early send window:"), result
    assert "0 to 60" in result["early_error"] and result["early_invalid"] == "true"
    assert "capacity-error" in result["early_described_by"].split()
    assert result["kept_after_refusal"] == {
        "early": "61",
        "paid_after_checked": True,
        "after": "45",
        "url_has_values": False,
    }
    assert result["capacity_saved"].startswith("Peak settings saved")
    assert "medication reminders up to 10 min early" in result["capacity_early"]
    assert "at least 90 s late" in result["capacity_paid"]
    assert "0.1 Telegram Stars each" in result["capacity_paid"]
    assert (result["capacity_form_early"], result["capacity_form_after"]) == ("10", "90")
    org = await admin_conn.fetchrow(
        "select early_send_seconds, telegram_paid_broadcast_after_seconds as after"
        " from organizations where id = $1",
        org_id,
    )
    assert org["early_send_seconds"] == {"medication_reminder": 600}
    assert org["after"] == 90

    # The clinic's own cap per patient: 0 refused naming the field, 3 an hour saved and shown.
    assert result["caps_error"].startswith(
        "Messages per patient in an hour: a whole number from 1 to 20"
    )
    assert result["caps_invalid"] == "true"
    assert result["caps_saved"].startswith("Caps saved")
    assert "at most 3 in an hour (your clinic's own)" in result["caps_summary"], result
    assert "at most 10 in 24 hours (the service's default)" in result["caps_summary"]
    caps = await admin_conn.fetchval("select caps from organizations where id = $1", org_id)
    assert caps["clinic_messages_per_patient_hour"] == 3
    assert "clinic_messages_per_patient_day" not in caps

    # The clinic's own bot: the wrong bot named on its field; the right one shown without token.
    assert result["bot_refused"].startswith("Bot token: Telegram answered for another bot"), result
    assert result["bot_refused_invalid"] == "true"
    assert result["bot_notice"] == "Saved and checked with the provider."
    assert f"Telegram bot @harbour_peak_bot (id {BOT_ID})" in result["bot_status"]
    assert "secret" not in result["bot_status"]
    assert result["bot_token_field"] == "" and result["page_has_token"] is False
    account = await admin_conn.fetchrow(
        "select config, secret from clinic_provider_accounts where channel = 'telegram'"
        " and organization_id = $1",
        org_id,
    )
    assert account["config"] == {"bot_id": BOT_ID, "username": "harbour_peak_bot"}
    assert BOT_TOKEN.split(":")[1] not in account["secret"]

    # The blocked chat: when and why, and the channel reminders go by instead.
    assert result["stop_telegram"].startswith("telegram blocked since "), result
    assert "the patient blocked the bot on Telegram" in result["stop_telegram"]
    assert "until the patient writes to the bot again" in result["stop_telegram"]
    assert result["reminders_via"] == "Reminders now go by sms."
    assert result["badges"] == ["telegram: blocked", "sms: ok"]
    assert result["badge_title"] == (
        "the patient blocked the bot on Telegram;"
        " nothing is sent there until the patient writes to the bot again"
    )

    # Time-critical: stored, shown, and the pending reminder back at the dose's time, first.
    assert result["time_critical_notice"].startswith("Marked time-critical")
    assert result["time_critical_badges"] == 1 and result["routine_button"] == 1
    assert await admin_conn.fetchval(
        "select time_critical from medications where patient_id = $1", patient["id"]
    )
    reminder = await admin_conn.fetchrow(
        "select priority, scheduled_time from scheduled_messages where id = $1",
        patient["reminder"],
    )
    assert (reminder["priority"], reminder["scheduled_time"]) == (0, patient["due"])
    audited = await admin_conn.fetch(
        "select actor, details->'changed' as changed from audit_log"
        " where entity = 'medication' and organization_id = $1",
        org_id,
    )
    assert [(r["actor"], r["changed"]) for r in audited] == [
        (f"clinician:{admin['clinician_id']}", ["time_critical"])
    ]

    # Read-only for a clinician who is not an admin, and the database refuses them the change.
    assert result["clinician_capacity_forms"] == 0
    assert result["clinician_caps_forms"] == 0
    assert "at most 3 in an hour" in result["clinician_caps_summary"]
    assert result["clinician_capacity_readonly"] == "Only an admin of the clinic can change these."
    assert result["clinician_capacity_paid"] == result["capacity_paid"]
    assert result["clinician_bot_status"] == result["bot_status"]
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only an admin"):
        await _update_as(
            admin_conn,
            plain["clinician_id"],
            "update organizations set telegram_paid_broadcast_after_seconds = 0"
            " where id = public.current_organization_id()",
        )

    assert BOT_TOKEN.split(":")[1] not in run.web_log + run.next_log
    for shot in ("settings-peak", "settings-telegram-bot", "patient-blocked-channel"):
        assert (SCREENSHOTS / f"{shot}.png").stat().st_size > 5_000
