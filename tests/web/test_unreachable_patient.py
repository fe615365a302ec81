"""A patient no channel can reach: doses not reminded are not missed, the caregiver hears once,
and START or unblocking brings reminders back without stale ones (migration 20260101013300).

Over real ``medremind web`` and ``medremind worker`` processes (the worker plans every second),
the loopback Twilio (signed inbound webhooks) and the loopback Bot API. The clinic has no quiet
hours and reminders fall hours from now, so the tests pass at any hour.

Before: a patient who sent STOP on their only channel, or blocked the bot, got no reminder, yet
each dose was marked missed and every caregiver alerted for it, several times a day, for ever.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core.db import Database
from tests.factories import create_dose_event, create_medication, create_message, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram, text_update
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.chat import plain
from tests.web.conftest import WEBHOOK_SECRET, twilio_signature
from tests.web.processes import StartWeb, clinic_key, running_worker, twilio_env, until

PHONE = "+14155550521"
CAREGIVER_CHAT = 7_300_521
CAREGIVER_PHONE = "+14155550522"
PATIENT_CHAT = 7_300_523
WRONG_PHONE = "+14155550524"
NOTICE = "Ana can no longer be reached by medication reminders"


def _ahead(hours: int) -> time:
    """A time of day ``hours`` from now (UTC, whole minutes): a dose that is not due yet."""
    return (datetime.now(UTC) + timedelta(hours=hours)).time().replace(second=0, microsecond=0)


def _worker_env(fake_twilio: FakeTwilio, fake_telegram: FakeTelegram) -> dict[str, str]:
    return twilio_env(fake_twilio) | {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "MEDREMIND_WORKER_POLL_SECONDS": "0.5",
        "MEDREMIND_PLANNER_INTERVAL": "1",
    }


async def _statuses(conn: asyncpg.Connection, patient_id: Any) -> dict[datetime, str]:
    rows = await conn.fetch(
        "select due_at, status from dose_events where patient_id = $1", patient_id
    )
    return {r["due_at"]: r["status"] for r in rows}


async def _pending_reminders(conn: asyncpg.Connection, patient_id: Any) -> int:
    return await conn.fetchval(
        "select count(*) from scheduled_messages where patient_id = $1"
        " and kind = 'medication_reminder' and status = 'pending'",
        patient_id,
    )


async def _reminder_due_now(
    conn: asyncpg.Connection, organization_id: Any, schedule: asyncpg.Record
) -> asyncpg.Record:
    """A dose of ``schedule`` due now and its reminder, queued for the worker."""
    now = datetime.now(UTC)
    dose = await create_dose_event(conn, schedule, now)
    await create_message(
        conn,
        schedule["patient_id"],
        organization_id=organization_id,
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=now,
        priority=1,
    )
    return dose


async def test_stop_on_the_only_channel_then_start(
    web_process: StartWeb,
    db: Database,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
) -> None:
    org, key = await clinic_key(db, admin_conn, "Reach Clinic")
    patient = await create_patient(
        admin_conn, org["id"], contacts={"sms": PHONE}, display_name="Ana"
    )
    pid = patient["id"]
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, 'Ben', 'telegram', $2, 0)",
        pid,
        str(CAREGIVER_CHAT),
    )
    await create_medication(admin_conn, pid, times=(_ahead(2), _ahead(3)))
    _, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    async with (
        running_worker(database_url, tmp_path, **_worker_env(fake_twilio, fake_telegram)) as log,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):

        async def text(body: str) -> None:
            form = inbound_form(PHONE, body)
            headers = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
            assert (await http.post("/twilio/inbound", data=form, headers=headers)).is_success

        await until("reminders planned", lambda: _pending_reminders(admin_conn, pid), log)

        # STOP: the patient is told their caregiver will hear of it; nothing is reminded.
        async def replies() -> list[str]:
            return [plain(m.body) for m in fake_twilio.messages if m.to == PHONE]

        async def replies_after(n: int) -> list[str]:
            return (await replies())[n:]

        await text("STOP")
        assert await until("the STOP confirmation", replies, log) == [
            "You will not get any more messages here. Reply START to subscribe again."
            " No reminder can reach you now, so we will let your caregiver know that reminders"
            " are off."
        ]
        assert await _pending_reminders(admin_conn, pid) == 0
        assert set((await _statuses(admin_conn, pid)).values()) == {"unreachable"}

        async def caregiver_told() -> list[str]:
            return [
                plain(c.text) for c in fake_telegram.sent_messages if c.chat_id == CAREGIVER_CHAT
            ]

        told = await until("the caregiver's notice", caregiver_told, log)
        assert told == [
            f"Hi Ben. {NOTICE} (they turned messages off or blocked them). Until they turn them"
            " back on you will not get missed-dose alerts. You may want to check in with them."
        ]
        shown = (await http.get(f"/api/v1/patients/{pid}", headers=auth)).json()
        assert shown["unreachable_since"] is not None

        # START: reminded again from now on, with nothing stale sent meanwhile.
        await text("START")
        assert "subscribed again" in (await until("START", lambda: replies_after(1), log))[0]
        # Every dose was ahead: all are reminded again (none had come due while stopped).
        statuses = await _statuses(admin_conn, pid)
        assert set(statuses.values()) == {"due"}
        assert await _pending_reminders(admin_conn, pid) == len(statuses)
        shown = (await http.get(f"/api/v1/patients/{pid}", headers=auth)).json()
        assert shown["unreachable_since"] is None
        await until(
            "planner ticks after START",
            lambda: admin_conn.fetchval(
                "select count(*) > 0 from reminder_schedules"
                " where patient_id = $1 and planned_until > now()",
                pid,
            ),
            log,
        )
    assert [m for m in fake_twilio.messages if m.to == PHONE and "1 Taken" in (m.body or "")] == []
    assert len(await caregiver_told()) == 1
    assert not await admin_conn.fetchval(
        "select count(*) from dose_events where patient_id = $1 and status = 'missed'", pid
    )


async def test_a_blocked_bot_found_by_a_reminder_then_unblocked(
    web_process: StartWeb,
    db: Database,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
) -> None:
    """The 403 of the reminder due now marks the chat blocked: that dose is 'unreachable', the SMS
    caregiver gets one notice and no missed-dose alert; writing to the bot again resumes."""
    org, _ = await clinic_key(db, admin_conn, "Block Clinic")
    patient = await create_patient(
        admin_conn,
        org["id"],
        contacts={"telegram": str(PATIENT_CHAT)},
        display_name="Ana",
        nag_max=0,
    )
    pid = patient["id"]
    # Their chat was reached before (linked: migration 20260101013800).
    await create_message(
        admin_conn,
        pid,
        organization_id=org["id"],
        status="sent",
        sent_at=datetime.now(UTC) - timedelta(days=1),
        scheduled_time=datetime.now(UTC) - timedelta(days=1),
    )
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, 'Lucía', 'sms', $2, 0)",
        pid,
        CAREGIVER_PHONE,
    )
    _, schedule = await create_medication(admin_conn, pid, times=(_ahead(2),))
    dose = await _reminder_due_now(admin_conn, org["id"], schedule)
    fake_telegram.block_chat(PATIENT_CHAT)
    _, base = await web_process()
    async with (
        running_worker(database_url, tmp_path, **_worker_env(fake_twilio, fake_telegram)) as log,
        httpx.AsyncClient(base_url=base, timeout=30) as http,
    ):

        async def dose_status() -> str | None:
            status = await admin_conn.fetchval(
                "select status from dose_events where id = $1", dose["id"]
            )
            return status if status not in ("due", "snoozed") else None

        assert await until("the dose settled", dose_status, log) == "unreachable"

        async def caregiver_sms() -> list[str]:
            return [plain(m.body) for m in fake_twilio.messages if m.to == CAREGIVER_PHONE]

        told = await until("the caregiver's notice", caregiver_sms, log)
        # The SMS text, within three segments in UCS-2 (the caregiver's name has an accent).
        assert told == [
            "Ana can no longer get medication reminders (messages are off), so you will not get"
            " missed-dose alerts for now. You may want to check in with them."
        ]

        # The patient unblocks the bot and writes: the reminder ahead is planned again.
        fake_telegram.reset()
        response = await http.post(
            "/telegram/webhook",
            json=text_update(PATIENT_CHAT, "/today"),
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        assert response.status_code == 200
        await until("reminders again", lambda: _pending_reminders(admin_conn, pid), log)
    assert await caregiver_sms() == told  # no missed-dose alert, no second notice


async def test_a_wrong_number_typed_by_the_clinic_tells_nobody(
    web_process: StartWeb,
    db: Database,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
) -> None:
    """The clinic types a number through the API; the carrier refuses it at the first reminder
    (21211). Before, the number counted as linked, the refusal made the patient unreachable
    and the caregiver got "Ana can no longer be reached ... (they turned messages off or
    blocked them)" about someone nothing had ever reached (migration 20260101013800). Now: not
    linked, not unreachable, no notice, the dose not missed, no alert."""
    org, key = await clinic_key(db, admin_conn, "Typo Clinic")
    _, base = await web_process()
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        created = await http.post(
            "/api/v1/patients",
            json={
                "display_name": "Ana",
                "phone": WRONG_PHONE,
                "channel_order": ["sms"],
                "consent": True,
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        assert (created.json()["linked_at"], created.json()["unreachable_since"]) == (None, None)
        await admin_conn.execute(
            "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
            " values ($1, 'Ben', 'telegram', $2, 0)",
            pid,
            str(CAREGIVER_CHAT),
        )
        _, schedule = await create_medication(admin_conn, pid, times=(_ahead(2),))
        await admin_conn.execute("update patients set nag_max = 0 where id = $1", pid)
        dose = await _reminder_due_now(admin_conn, org["id"], schedule)
        fake_twilio.fail_next_invalid_number(to=WRONG_PHONE, times=5)
        async with running_worker(
            database_url, tmp_path, **_worker_env(fake_twilio, fake_telegram)
        ) as log:

            async def dose_status() -> str | None:
                status = await admin_conn.fetchval(
                    "select status from dose_events where id = $1", dose["id"]
                )
                return status if status not in ("due", "snoozed") else None

            assert await until("the dose settled", dose_status, log) == "unreachable"
            assert await admin_conn.fetchval(
                "select not active from contact_points where patient_id = $1", pid
            )
            # A few planner passes more (one a second): still nobody told.
            await asyncio.sleep(3)
        shown = (await http.get(f"/api/v1/patients/{pid}", headers=auth)).json()
    assert (shown["linked_at"], shown["unreachable_since"]) == (None, None)
    assert [c for c in fake_telegram.sent_messages if c.chat_id == CAREGIVER_CHAT] == []
    assert not await admin_conn.fetchval(
        "select count(*) from scheduled_messages where patient_id = $1"
        " and kind = 'missed_dose_caregiver'",
        pid,
    )
