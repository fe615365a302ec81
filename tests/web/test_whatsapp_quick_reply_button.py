"""End to end: a WhatsApp reminder goes out with quick-reply buttons, and pressing one records the
dose through the real ``/twilio/inbound`` route with a valid Twilio signature.

Real parts: the dispatcher on the test database, the WhatsApp sender built from the settings (its
24-hour window read from ``inbound_messages``, its Content SIDs kept in Postgres), the loopback
Twilio for the Messages and Content APIs, the web app with its signature check and the bot.
One injected clock (``chat_clock``, set to noon) for all of them: the dispatcher, the web app that
stores the inbound times, and the WhatsApp sender's 24-hour window (tests.web.conftest.wa_senders).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from core.db import Database
from core.inbound_window import LastInboundLookup
from core.settings import Settings
from core.templating import TemplateRenderer
from medremind.web import create_app
from platforms.base import Channel, ChannelSender
from platforms.registry import build_senders
from platforms.whatsapp_content_store import PostgresContentStore
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import Clock, make_client, twilio_signature

NUMBER = "+14155550123"
# The one clock's time: noon UTC, outside the patient's quiet hours.
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def noon(chat_clock: Clock) -> Clock:
    """``chat_clock`` (the WhatsApp senders' too) at noon: the clock of the whole test."""
    chat_clock.now = NOON
    return chat_clock


@pytest.fixture
async def wa_client(
    web_settings: Settings, db: Database, wa_senders: dict, noon: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        web_settings,
        database=db,
        senders=wa_senders,
        clock=noon,
        bot_username="medremind_test_bot",
        detach_processing=False,
    )
    async with make_client(app) as http:
        yield http


async def _reminder_for_whatsapp_patient(
    conn: asyncpg.Connection, clock: Clock
) -> tuple[asyncpg.Record, asyncpg.Record]:
    patient = await factories.create_patient(conn, contacts={"whatsapp": NUMBER})
    # Registered over WhatsApp: the chat's conversation belongs to the patient.
    await conn.execute(
        "insert into conversations (channel, chat_address, patient_id) values ('whatsapp', $1, $2)",
        NUMBER,
        patient["id"],
    )
    _, schedule = await factories.create_medication(conn, patient["id"])
    dose = await factories.create_dose_event(conn, schedule, clock())
    await factories.create_message(
        conn,
        patient["id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=clock(),
        priority=1,
    )
    # The patient wrote to us an hour ago: the 24-hour session window is open.
    await conn.execute(
        "insert into inbound_messages (channel, provider_message_id, chat_address, payload,"
        " received_at) values ('whatsapp', 'SMearlier0001', $1, '{}', $2)",
        NUMBER,
        clock() - timedelta(hours=1),
    )
    return patient, dose


def _dispatcher(db: Database, senders: dict[Channel, ChannelSender], clock: Clock) -> Dispatcher:
    assert db.pool is not None
    config = DispatcherConfig(worker_id="test-worker", platform_rates={}, recipient_rates={})
    return Dispatcher(db.pool, senders, TemplateRenderer(), clock, config)


async def test_reminder_buttons_and_a_press_records_the_dose(
    web_settings: Settings,
    db: Database,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    wa_senders: dict,
    wa_client: httpx.AsyncClient,
    noon: Clock,
) -> None:
    _, dose = await _reminder_for_whatsapp_patient(admin_conn, noon)
    assert await _dispatcher(db, wa_senders, noon).run_once() == 1

    [reminder] = fake_twilio.messages
    assert reminder.to == f"whatsapp:{NUMBER}" and reminder.body is None
    hex_id = dose["id"].hex
    assert reminder.buttons == [
        ("Taken", f"d:{hex_id}:t"),
        ("Snooze 15 min", f"d:{hex_id}:s"),
        ("Skip", f"d:{hex_id}:k"),
    ]
    assert len(fake_twilio.contents_created) == 1
    stored = await admin_conn.fetchval("select content_sid from whatsapp_quick_reply_contents")
    assert stored == reminder.content_sid

    # The patient taps "Taken": Twilio posts the button's id as ButtonPayload, its title as text.
    form = inbound_form(
        "whatsapp:" + NUMBER,
        "Taken",
        button_payload=reminder.buttons[0][1],
        button_text="Taken",
    )
    headers = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
    response = await wa_client.post("/twilio/inbound", data=form, headers=headers)
    assert response.status_code == 200
    row = await admin_conn.fetchrow(
        "select status, answered_at from dose_events where id = $1", dose["id"]
    )
    # Answered at the one clock's time: the web app's, as the window's and the dispatcher's.
    assert (row["status"], row["answered_at"]) == ("taken", NOON)
    # The bot answered in the open window, on WhatsApp.
    replies = fake_twilio.messages[1:]
    assert replies and all(m.to == f"whatsapp:{NUMBER}" for m in replies)

    # A second reminder after a restart reuses the stored content: no new creation.
    await factories.create_message(
        admin_conn,
        dose["patient_id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=(
            await factories.create_dose_event(
                admin_conn,
                await admin_conn.fetchrow("select * from reminder_schedules"),
                noon() + timedelta(minutes=1),
            )
        )["id"],
        scheduled_time=noon(),
        priority=1,
    )
    restarted = build_senders(
        web_settings,
        last_inbound_lookup=LastInboundLookup(db),
        content_store=PostgresContentStore(db),
        clock=noon,
    )
    try:
        assert await _dispatcher(db, restarted, noon).run_once() == 1
    finally:
        for sender in restarted.values():
            await sender.aclose()
    assert len(fake_twilio.messages[-1].buttons) == 3
    assert len(fake_twilio.contents_created) == 1
