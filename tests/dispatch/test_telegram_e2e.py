"""The dispatcher end to end through the real Telegram adapter and the loopback fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel
from platforms.telegram import TelegramSender
from scheduler.buckets import BucketSet
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests import factories
from tests.dispatch.conftest import NOON, Clock
from tests.dispatch.recording import RecordingSender
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(DEFAULT_TOKEN) as fake:
        yield fake


async def _dispatcher(
    db: Database, clock: Clock, fake: FakeTelegram, **senders: RecordingSender
) -> tuple[Dispatcher, TelegramSender]:
    telegram = TelegramSender(DEFAULT_TOKEN, base_url=fake.base_url)
    channels = {Channel.TELEGRAM: telegram} | {Channel(k): v for k, v in senders.items()}
    assert db.pool is not None
    config = DispatcherConfig(worker_id="e2e", platform_rates={}, recipient_rates={})
    return Dispatcher(db.pool, channels, TemplateRenderer(), clock, config), telegram


async def test_sends_through_the_fake_bot_api(
    admin_conn: asyncpg.Connection, db: Database, clock: Clock, fake_telegram: FakeTelegram
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "5551234"})
    msg = await factories.create_message(
        admin_conn, patient["id"], scheduled_time=NOON, message_content="See you <soon> & well"
    )
    dispatcher, telegram = await _dispatcher(db, clock, fake_telegram)
    try:
        await dispatcher.run_once()
    finally:
        await telegram.aclose()
    row = await admin_conn.fetchrow("select * from scheduled_messages where id = $1", msg["id"])
    assert row["status"] == "sent" and row["provider_message_id"]
    (call,) = fake_telegram.sent_messages
    assert str(call.chat_id) == "5551234"
    # Sent as HTML, the text escaped (the fake rejects HTML that does not parse).
    assert call.text == "See you &lt;soon&gt; &amp; well"


async def test_blocked_bot_falls_back_to_sms_and_marks_the_chat(
    admin_conn: asyncpg.Connection, db: Database, clock: Clock, fake_telegram: FakeTelegram
) -> None:
    patient = await factories.create_patient(
        admin_conn, contacts={"telegram": "5551235", "sms": "+15550123"}
    )
    msg = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    fake_telegram.block_chat(5551235)
    sms = RecordingSender(Channel.SMS, name="sms")
    dispatcher, telegram = await _dispatcher(db, clock, fake_telegram, sms=sms)
    try:
        await dispatcher.run_once()
    finally:
        await telegram.aclose()
    row = await admin_conn.fetchrow("select * from scheduled_messages where id = $1", msg["id"])
    assert row["status"] == "sent" and row["channel_used"] == "sms"
    assert row["channels_tried"] == ["telegram", "sms"]
    blocked = await admin_conn.fetchval(
        "select blocked_at from contact_points where channel = 'telegram' and patient_id = $1",
        patient["id"],
    )
    assert blocked is not None


async def test_429_reschedules_after_retry_after(
    admin_conn: asyncpg.Connection, db: Database, clock: Clock, fake_telegram: FakeTelegram
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "5551236"})
    msg = await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    fake_telegram.fail_next_rate_limited(retry_after=7)
    dispatcher, telegram = await _dispatcher(db, clock, fake_telegram)
    try:
        await dispatcher.run_once()
        row = await admin_conn.fetchrow("select * from scheduled_messages where id = $1", msg["id"])
        assert row["status"] == "pending" and row["attempts"] == 0
        assert row["scheduled_time"] == NOON + timedelta(seconds=7)
        clock.advance(seconds=7)
        dispatcher.buckets = BucketSet({}, {})  # the real pause has not elapsed
        await dispatcher.run_once()
    finally:
        await telegram.aclose()
    row = await admin_conn.fetchrow("select * from scheduled_messages where id = $1", msg["id"])
    assert row["status"] == "sent" and row["attempts"] == 1


async def test_migrated_chat_updates_the_contact_point(
    admin_conn: asyncpg.Connection, db: Database, clock: Clock, fake_telegram: FakeTelegram
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": "-5551237"})
    await factories.create_message(admin_conn, patient["id"], scheduled_time=NOON)
    fake_telegram.fail_next_migrated(-1005551237)
    dispatcher, telegram = await _dispatcher(db, clock, fake_telegram)
    try:
        await dispatcher.run_once()
    finally:
        await telegram.aclose()
    address = await admin_conn.fetchval(
        "select address from contact_points where patient_id = $1", patient["id"]
    )
    assert address == "-1005551237"
