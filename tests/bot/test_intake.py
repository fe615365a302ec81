"""Intake: de-duplication, crash recovery, internal errors, Telegram appointment buttons."""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg
import pytest

from bot.intake import process_inbound, resume_unprocessed, store_inbound
from core.answer_buttons import appointment_answer_options
from platforms.telegram import parse_update
from tests.bot.conftest import START, Bot
from tests.bot.helpers import registered_patient
from tests.fakes.fake_telegram import text_update


async def test_store_inbound_deduplicates(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    update = text_update(bot.new_chat(), "/help")
    event = parse_update(update)
    assert event is not None
    first = await store_inbound(bot.ctx.pool, event, update)
    assert first is not None
    assert await store_inbound(bot.ctx.pool, event, update) is None
    await process_inbound(bot.ctx, first)
    await process_inbound(bot.ctx, first)  # a second run of the same row does nothing
    assert len(bot.telegram.sent_messages) == 1
    assert await admin_conn.fetchval("select status from inbound_messages") == "processed"


async def test_resume_unprocessed_after_a_crash(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    for text in ("/start", "/help"):
        update = text_update(chat, text)
        event = parse_update(update)
        assert event is not None
        await store_inbound(bot.ctx.pool, event, update)  # stored, never processed
    assert await resume_unprocessed(bot.ctx) == 2
    assert await resume_unprocessed(bot.ctx) == 0
    texts = [c.text or "" for c in bot.messages_to(chat)]
    assert "Privacy" in texts[0] and "/add" in texts[1]


async def test_internal_error_answers_and_marks_failed(
    bot: Bot, admin_conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    # A timezone the database accepts but zoneinfo does not: /today cannot work out "today".
    await admin_conn.execute("update patients set timezone = 'Mars/Olympus_Mons'")
    await bot.send(chat, "/add Secret-Medicine")
    with caplog.at_level(logging.ERROR):
        calls = await bot.send(chat, "/today")
    assert [c.text for c in calls if c.method == "sendMessage"] == [
        "Sorry, something went wrong. Please try again."
    ]
    row = await admin_conn.fetchrow(
        "select status, last_error from inbound_messages order by received_at desc limit 1"
    )
    assert row["status"] == "failed"
    assert row["last_error"] == "ZoneInfoNotFoundError"
    assert "Secret-Medicine" not in caplog.text and "/today" not in caplog.text
    # The failed turn changed nothing but sent the dialog back to idle, where it works again.
    assert await admin_conn.fetchval("select step from conversations") == "idle"
    assert await admin_conn.fetchval("select count(*) from medications") == 0
    await admin_conn.execute("update patients set timezone = 'UTC'")
    today = (await bot.send(chat, "/today"))[-1]
    assert today.text is not None
    assert "Today" in today.text or "No doses" in bot.last_text(chat)


async def test_corrupted_dialog_state_recovers(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await admin_conn.execute("update conversations set step = 'add_end', state = '{}'::jsonb")
    reply = (await bot.send(chat, "2026-05-01"))[-1]
    assert reply.text is not None and "went wrong" in reply.text
    await bot.send(chat, "/help")
    assert "/add" in bot.last_text(chat)


async def test_appointment_buttons_on_telegram(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    appt = await admin_conn.fetchval(
        """insert into appointments (organization_id, patient_id, starts_at, location)
           values ($1, $2, $3, 'Room 4') returning id""",
        patient["organization_id"],
        patient["id"],
        START + timedelta(days=3),
    )
    await bot.send(chat, "/appointments")
    assert "Room 4" in bot.last_text(chat)
    assert bot.labels(chat) == ["Confirm", "Ask to reschedule", "Cancel appointment"]
    data = dict(appointment_answer_options(appt))
    calls = await bot.press_data(chat, data["confirm"], message_id=3001)
    assert any(c.method == "editMessageText" and "Confirmed" in (c.text or "") for c in calls)
    assert await admin_conn.fetchval("select status from appointments") == "confirmed"
    await bot.press_data(chat, data["cancel"])
    assert await admin_conn.fetchval("select status from appointments") == "cancelled"
    calls = await bot.press_data(chat, data["confirm"])
    assert any("no longer active" in (c.text or "") for c in calls)
