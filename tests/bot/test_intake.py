"""Intake: de-duplication, crash recovery, internal errors, a turn refused by an erasure,
Telegram appointment buttons."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import pytest

from bot.intake import process_inbound, resume_unprocessed, store_inbound
from core.answer_buttons import appointment_answer_options
from platforms.telegram import parse_update
from tests.bot.conftest import START, Bot
from tests.bot.helpers import registered_patient
from tests.erasure_race import erased_while_waiting, waiting_for_locks
from tests.factories import create_organization, create_patient
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


@pytest.mark.parametrize("channel", ["telegram", "sms"])
async def test_a_turn_refused_by_an_erasure_is_answered_as_the_chat_now_is(
    bot: Bot,
    admin_conn: asyncpg.Connection,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    channel: str,
) -> None:
    """A clinic's patient writes for the first time while the clinic erases them: the turn read
    their contact point, then linking the chat to them was refused by the database
    (conversations_patient_erased, migration 20260101018950). It answered "something went wrong"
    and logged an error, and the failed update kept their number and text after the erasure.
    The turn now runs again against what the erasure left: a chat of nobody's, answered as one,
    its text forgotten, and no error logged."""
    org = await create_organization(admin_conn, name="Hillside Clinic")
    address = "+15005550123" if channel == "sms" else str(bot.new_chat())
    patient = await create_patient(
        admin_conn, org["id"], contacts={channel: address}, display_name="Ana"
    )

    async def write() -> list[str]:
        if channel == "sms":
            return [m.body or "" for m in await bot.sms(address, "HELP")]
        return [c.text or "" for c in await bot.send(int(address), "/help")]

    with caplog.at_level(logging.WARNING):
        said = await erased_while_waiting(database_url, admin_conn, patient["id"], write())
    assert said and not any("went wrong" in text for text in said), said
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)
    # Nothing of the patient's is kept: the update is processed, its text and number forgotten.
    rows = await admin_conn.fetch("select status, payload from inbound_messages")
    assert [(r["status"], r["payload"]) for r in rows] == [("processed", {})]
    assert not await admin_conn.fetchval(
        "select count(*) from conversations where patient_id is not null"
    )
    assert not await admin_conn.fetchval(
        "select count(*) from scheduled_messages where patient_id = $1", patient["id"]
    )


async def test_an_erasure_meeting_a_turn_that_holds_the_chat_is_not_undone(
    bot: Bot, admin_conn: asyncpg.Connection, database_url: str
) -> None:
    """The clinic erases a patient whose turn (Save on /add) holds their chat's conversation: the
    erasure locked the patient, then waited for the conversation to unlink it, while the turn
    waited for the patient's row to insert the medicine. PostgreSQL broke the deadlock by
    failing the erasure, which had waited first: the clinic's DELETE answered 500, the patient
    stayed. The erasure now locks the patient's chats before the patient, as a turn does: the
    turn finishes, then the erasure takes what it wrote (migration 20260101019000)."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    for step in ("/add", "Aspirin", "500 mg"):
        await bot.send(chat, step)
    for label in ("Morning 08:00", "Done", "Every day", "Today", "No end date"):
        await bot.press(chat, label)
    await bot.send(chat, "60")
    assert "Save it?" in bot.last_text(chat)

    blocker, eraser = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        # The turn is held after it locked the conversation, before it writes the medicine.
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute("lock table medications in share mode")
        saved = asyncio.ensure_future(bot.press(chat, "Save"))
        await waiting_for_locks(admin_conn, 1)
        erased = asyncio.ensure_future(
            eraser.execute("select public.erase_patient($1, 'erasure', now())", patient["id"])
        )
        await waiting_for_locks(admin_conn, 2)  # the erasure waits for the conversation
        await holding.commit()
        await erased
        await saved
    finally:
        await blocker.close()
        await eraser.close()
    assert (
        await admin_conn.fetchval("select status from patients where id = $1", patient["id"])
        == "deleted"
    )
    for table in ("medications", "contact_points", "scheduled_messages"):
        assert not await admin_conn.fetchval(
            f"select count(*) from {table} where patient_id = $1", patient["id"]
        ), table


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
