"""Pause means pause (issue 14, item 3), over the web process.

A patient snoozes a reminder with its Telegram button and then sends /pause: nothing medication-
related reaches them afterwards, whatever was pending (the snoozed reminder, a nag, a refill
notice) and whatever a later path inserts; the dispatcher re-checks pause, consent and erasure at
send time. /resume plans again from the moment of the resume.

Real parts: the web app (``/telegram/webhook`` with its secret), the conversation engine, the
planner and the dispatcher on the test database, the loopback Telegram. Times are injected: the
app's and the dispatcher's clocks are one settable clock, and the patient's quiet hours are off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings
from core.templating import TemplateRenderer
from medremind.api_keys import create_api_key
from medremind.web import create_app
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.holds import PAUSE_REASON
from scheduler.planner import run_planner_tick
from scheduler.planning_rules import CLINIC_PAUSE_REASON
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram, callback_update, text_update
from tests.web.conftest import WEBHOOK_SECRET, make_client

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
CHAT = 555300001
# Noon UTC; the patient's own times are 08:00 and 20:00, their quiet hours off.
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


class Clock:
    """One settable clock for the app (bot turns) and the worker (planner, dispatcher)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
async def app_client(
    web_settings: Settings, db: Database, senders: dict, clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        web_settings,
        database=db,
        senders=senders,
        clock=clock,
        bot_username="medremind_test_bot",
        detach_processing=False,
    )
    async with make_client(app) as http:
        yield http


def _dispatcher(db: Database, senders: dict, clock: Clock) -> Dispatcher:
    assert db.pool is not None
    config = DispatcherConfig(worker_id="test-worker", platform_rates={}, recipient_rates={})
    return Dispatcher(db.pool, senders, TemplateRenderer(), clock, config)


async def _worker_pass(db: Database, senders: dict, clock: Clock, settings: Settings) -> int:
    """What a worker does at the clock's time: a planner tick, then dispatch until idle."""
    assert db.pool is not None
    await run_planner_tick(db.pool, clock.now, settings)
    dispatcher = _dispatcher(db, senders, clock)
    total = 0
    while claimed := await dispatcher.run_once():
        total += claimed
    return total


async def _patient_with_reminder(
    conn: asyncpg.Connection, **patient: object
) -> tuple[asyncpg.Record, asyncpg.Record, asyncpg.Record]:
    """A Telegram patient of a clinic (quiet hours off), a medicine, and a reminder due at noon."""
    org = await factories.create_organization(conn, name="North Clinic")
    values: dict[str, object] = {"quiet_start": time(0, 0), "quiet_end": time(0, 0)} | patient
    row = await factories.create_patient(
        conn, org["id"], contacts={"telegram": str(CHAT)}, **values
    )
    await conn.execute(
        "insert into conversations (channel, chat_address, patient_id) values ('telegram', $1, $2)",
        str(CHAT),
        row["id"],
    )
    medication, schedule = await factories.create_medication(conn, row["id"], pill_count=4)
    # Planned up to a day ahead, as the planner leaves it.
    await conn.execute(
        "update reminder_schedules set planned_until = $2 where id = $1",
        schedule["id"],
        NOON + timedelta(hours=24),
    )
    dose = await factories.create_dose_event(conn, schedule, NOON)
    await factories.create_message(
        conn,
        row["id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOON,
        priority=1,
        expires_at=NOON + timedelta(hours=2),
    )
    return row, medication, dose


async def _post(client: httpx.AsyncClient, update: dict) -> None:
    response = await client.post("/telegram/webhook", json=update, headers=SECRET)
    assert response.status_code == 200


def _to_chat(fake: FakeTelegram) -> list[str]:
    return [m.text or "" for m in fake.sent_messages if str(m.chat_id) == str(CHAT)]


async def test_snooze_then_pause_sends_nothing_later(
    app_client: httpx.AsyncClient,
    web_settings: Settings,
    db: Database,
    senders: dict,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    clock: Clock,
) -> None:
    patient, medication, dose = await _patient_with_reminder(admin_conn)
    assert await _dispatcher(db, senders, clock).run_once() == 1  # the noon reminder
    assert len(_to_chat(fake_telegram)) == 1

    clock.now = NOON + timedelta(minutes=1)
    await _post(app_client, callback_update(CHAT, f"d:{dose['id'].hex}:s"))
    snoozed = await admin_conn.fetchrow(
        "select id, scheduled_time from scheduled_messages"
        " where dose_event_id = $1 and status = 'pending'",
        dose["id"],
    )
    assert snoozed is not None and snoozed["scheduled_time"] == NOON + timedelta(minutes=16)
    # A refill notice and a clinic's nag waiting too (a planner pass made them).
    refill = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="refill_reminder",
        message_content=None,
        payload={"medication_id": str(medication["id"]), "doses_left": 2},
        scheduled_time=NOON + timedelta(minutes=5),
    )
    await admin_conn.execute(
        "update medications set refill_reminded_at = $2 where id = $1", medication["id"], NOON
    )

    clock.now = NOON + timedelta(minutes=2)
    await _post(app_client, text_update(CHAT, "/pause"))
    assert "paused" in _to_chat(fake_telegram)[-1].lower()
    sent_before = len(fake_telegram.sent_messages)

    rows = await admin_conn.fetch(
        "select id, status, last_error from scheduled_messages where id = any($1::uuid[])",
        [snoozed["id"], refill["id"]],
    )
    assert {(r["status"], r["last_error"]) for r in rows} == {("cancelled", PAUSE_REASON)}
    assert await admin_conn.fetchval(
        "select refill_reminded_at is null from medications where id = $1", medication["id"]
    )  # re-armed for after the resume
    # The dose stays open: the patient can still say they took it (/pause cancelled it before).
    assert await admin_conn.fetchval(
        "select status from dose_events where id = $1", dose["id"]
    ) == ("snoozed")

    # Through the snooze's time, the nag window, the missed mark and the evening dose.
    for minutes in (16, 20, 60, 120, 8 * 60 + 5):
        clock.now = NOON + timedelta(minutes=minutes)
        await _worker_pass(db, senders, clock, web_settings)
    assert len(fake_telegram.sent_messages) == sent_before
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where patient_id = $1"
            " and conversation_id is null"  # not the bot's replies to the pause
            " and status in ('pending', 'processing', 'sent')"
            " and scheduled_time > $2",
            patient["id"],
            NOON,
        )
        == 0
    )
    # Unanswered, it is missed at its usual time (no caregiver alert while paused).
    assert await admin_conn.fetchval(
        "select status from dose_events where id = $1", dose["id"]
    ) == ("missed")


async def test_dispatcher_withholds_what_other_paths_insert(
    app_client: httpx.AsyncClient,
    db: Database,
    senders: dict,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    clock: Clock,
) -> None:
    patient, _, dose = await _patient_with_reminder(admin_conn)
    await _post(app_client, text_update(CHAT, "/pause"))
    sent_before = len(fake_telegram.sent_messages)
    # After the pause, an integration inserts a reminder and a nag for the dose (no planner
    # involved) and the clinic a plain message: the pause holds the first two only.
    reminder = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOON,
    )
    nag = await factories.create_message(
        admin_conn, patient["id"], kind="dose_followup", message_content=None, scheduled_time=NOON
    )
    note = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    await _dispatcher(db, senders, clock).run_once()
    statuses = {
        r["id"]: (r["status"], r["last_error"])
        for r in await admin_conn.fetch("select id, status, last_error from scheduled_messages")
    }
    # Held at the claim, which names who paused, as a withdrawal does: the patient.
    assert statuses[reminder["id"]] == ("cancelled", PAUSE_REASON)
    assert statuses[nag["id"]] == ("cancelled", PAUSE_REASON)
    assert statuses[note["id"]][0] == "sent"
    assert _to_chat(fake_telegram)[sent_before:] == ["Please remember your appointment"]

    # The patient resumes; their clinic pauses them (the API, as the dashboard does); an
    # integration inserts a reminder again: held, in the clinic's name, not the patient's.
    await _post(app_client, text_update(CHAT, "/resume"))
    assert db.pool is not None
    key = await create_api_key(db.pool, str(patient["organization_id"]), "tests")
    paused = await app_client.patch(
        f"/api/v1/patients/{patient['id']}",
        json={"reminders_paused": True},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert paused.status_code == 200, paused.text
    again = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOON,
    )
    await _dispatcher(db, senders, clock).run_once()
    assert await admin_conn.fetchrow(
        "select status, last_error from scheduled_messages where id = $1", again["id"]
    ) == ("cancelled", CLINIC_PAUSE_REASON)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("update patients set consent_at = null where id = $1", "no consent recorded"),
        ("update patients set status = 'deleted' where id = $1", "patient deleted"),
    ],
)
async def test_dispatcher_withholds_without_consent_or_after_erasure(
    db: Database,
    senders: dict,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    clock: Clock,
    change: str,
    reason: str,
) -> None:
    patient, _, _ = await _patient_with_reminder(admin_conn)
    note = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    await admin_conn.execute(change, patient["id"])
    await _dispatcher(db, senders, clock).run_once()
    rows = await admin_conn.fetch("select status, last_error from scheduled_messages")
    assert {r["status"] for r in rows} == {"cancelled"} and len(rows) == 2
    assert all(r["last_error"].startswith(reason) for r in rows)
    assert not fake_telegram.sent_messages
    assert note is not None


async def test_resume_plans_from_now(
    app_client: httpx.AsyncClient,
    web_settings: Settings,
    db: Database,
    senders: dict,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    clock: Clock,
) -> None:
    patient, _, dose = await _patient_with_reminder(admin_conn)
    await _post(app_client, text_update(CHAT, "/pause"))
    clock.now = NOON + timedelta(hours=9)  # after the 20:00 dose: paused through it
    await _worker_pass(db, senders, clock, web_settings)
    resumed_at = NOON + timedelta(hours=10)
    clock.now = resumed_at
    await _post(app_client, text_update(CHAT, "/resume"))
    assert "back on" in _to_chat(fake_telegram)[-1]

    pending = await admin_conn.fetch(
        "select scheduled_time from scheduled_messages"
        " where patient_id = $1 and status = 'pending'",
        patient["id"],
    )
    times = sorted(r["scheduled_time"] for r in pending)
    # Tomorrow 08:00 comes next; nothing from before the resume is revived.
    assert times and times[0] == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    assert all(t > resumed_at for t in times)
    # Due at the pause, it stayed open and was missed unanswered (still answerable late).
    assert await admin_conn.fetchval(
        "select status from dose_events where id = $1", dose["id"]
    ) == ("missed")
    clock.now = datetime(2026, 3, 5, 8, 0, 30, tzinfo=UTC)
    await _worker_pass(db, senders, clock, web_settings)
    sent = await admin_conn.fetch(
        "select kind, scheduled_time from scheduled_messages"
        " where patient_id = $1 and status = 'sent' and conversation_id is null order by kind",
        patient["id"],
    )
    # The morning reminder, and the refill notice the pause held (4 pills, 2 a day).
    assert [(r["kind"], r["scheduled_time"] > resumed_at) for r in sent] == [
        ("medication_reminder", True),
        ("refill_reminder", True),
    ]
