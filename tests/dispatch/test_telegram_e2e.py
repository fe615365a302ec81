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


async def _run_once(
    dispatcher: Dispatcher, telegram: TelegramSender, conn: asyncpg.Connection, *ids: object
) -> dict[object, asyncpg.Record]:
    """One pass of ``dispatcher``, then the rows of messages ``ids`` by id."""
    try:
        await dispatcher.run_once()
    finally:
        await telegram.aclose()
    rows = await conn.fetch("select * from scheduled_messages where id = any($1::uuid[])", ids)
    return {r["id"]: r for r in rows}


async def test_an_error_text_with_a_nul_byte_loses_no_other_outcome(
    admin_conn: asyncpg.Connection, db: Database, clock: Clock, fake_telegram: FakeTelegram
) -> None:
    """A provider's error text may hold a NUL byte (JSON's \\u0000), which PostgreSQL's text
    refuses: the record of the whole batch failed on it, every send in it went unrecorded, and
    each was sent again once its lease ran out (the webhook sender's same fault: H1, s34)."""
    failing = await factories.create_patient(admin_conn, contacts={"telegram": "5551236"})
    fine = await factories.create_patient(admin_conn, contacts={"telegram": "5551237"})
    bad = await factories.create_message(admin_conn, failing["id"], scheduled_time=NOON)
    good = await factories.create_message(admin_conn, fine["id"], scheduled_time=NOON)
    fake_telegram.fail_next(500, "Internal Server Error\x00 at the edge", chat_id=5551236)
    dispatcher, telegram = await _dispatcher(db, clock, fake_telegram)
    rows = await _run_once(dispatcher, telegram, admin_conn, bad["id"], good["id"])
    assert rows[good["id"]]["status"] == "sent"
    assert rows[bad["id"]]["status"] == "pending" and rows[bad["id"]]["lease_token"] is None
    assert "\ufffd" in rows[bad["id"]]["last_error"]
    (attempt,) = await admin_conn.fetch(
        "select error_message from message_delivery_attempts where message_id = $1", bad["id"]
    )
    assert attempt["error_message"].endswith("Internal Server Error\ufffd at the edge")


async def test_a_receipt_with_a_nul_byte_is_recorded_with_the_rest(
    admin_conn: asyncpg.Connection, db: Database, clock: Clock, fake_telegram: FakeTelegram
) -> None:
    """Past the error texts scrubbed at the edge, the record guards itself: a NUL in any text a
    send returns (here a provider's message id) is replaced, and the batch is recorded."""
    by_telegram = await factories.create_patient(admin_conn, contacts={"telegram": "5551238"})
    by_sms = await factories.create_patient(admin_conn, contacts={"sms": "+15550124"})
    first = await factories.create_message(admin_conn, by_telegram["id"], scheduled_time=NOON)
    second = await factories.create_message(admin_conn, by_sms["id"], scheduled_time=NOON)
    sms = RecordingSender(Channel.SMS, name="sms\x00")
    dispatcher, telegram = await _dispatcher(db, clock, fake_telegram, sms=sms)
    rows = await _run_once(dispatcher, telegram, admin_conn, first["id"], second["id"])
    assert rows[first["id"]]["status"] == rows[second["id"]]["status"] == "sent"
    assert rows[second["id"]]["provider_message_id"] == "sms\ufffd-1"
    assert dispatcher.lease_lost == 0
