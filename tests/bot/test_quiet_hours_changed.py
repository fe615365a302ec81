"""A message held back by quiet hours is judged again when the patient changes the window.

Before, a message the dispatcher deferred to 08:00 (it fell inside 21:00-08:00) still waited for
08:00 after the patient typed "none" (or a narrower window, or moved to another zone) in
/settings. Through the real path: the bot's /settings dialog over the loopback Telegram, the real
dispatcher on the test database, one injected clock. The patients live in UTC (Chicago is UTC-6
on these dates) and their nights are their own window, 21:00-08:00, unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from core.templating import TemplateRenderer
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from scheduler.quiet_release import RELEASED_REASON
from tests.bot.conftest import Bot
from tests.bot.helpers import dose_events, registered_patient, remind
from tests.factories import create_message

# A Monday, far from DST changes; 22:00 is inside 21:00-08:00.
EVENING = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
NIGHT: dict[str, Any] = {"quiet_start": time(21, 0), "quiet_end": time(8, 0)}
TEXT = "Your lab results are in: call us when you can"
DEFERRED = "deferred to the end of quiet hours"


def _dispatcher(bot: Bot) -> Dispatcher:
    config = DispatcherConfig(worker_id="bot-tests", platform_rates={}, recipient_rates={})
    return Dispatcher(bot.ctx.pool, bot.ctx.senders, TemplateRenderer(), bot.clock, config)


async def _deferred_message(bot: Bot, conn: asyncpg.Connection, chat: int) -> UUID:
    """A clinic's message to the patient, due at 22:00 and deferred by the dispatcher to 08:00."""
    patient = await registered_patient(bot, conn, chat, **NIGHT)
    bot.clock.now = EVENING
    row = await create_message(conn, patient["id"], message_content=TEXT, scheduled_time=EVENING)
    assert await _dispatcher(bot).run_once() == 1
    message = await conn.fetchrow("select * from scheduled_messages where id = $1", row["id"])
    assert (message["status"], message["last_error"]) == ("pending", DEFERRED)
    assert message["scheduled_time"] == NEXT_MORNING
    return row["id"]


async def _set_quiet(bot: Bot, chat: int, typed: str) -> None:
    await bot.send(chat, "/settings")
    await bot.press(chat, "Quiet hours")
    await bot.send(chat, typed)
    assert bot.last_text(chat).startswith("Saved"), bot.last_text(chat)


async def _message(conn: asyncpg.Connection, message_id: UUID) -> asyncpg.Record:
    return await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)


def _texts(bot: Bot, chat: int) -> list[str]:
    return [m.text or "" for m in bot.messages_to(chat)]


async def _sent_now(bot: Bot, conn: asyncpg.Connection, chat: int, message_id: UUID) -> None:
    """The dispatcher at the clock's time sends the message to the chat."""
    assert await _dispatcher(bot).run_once() == 1
    assert (await _message(conn, message_id))["status"] == "sent"
    assert _texts(bot, chat)[-1] == TEXT


async def test_quiet_hours_removed_the_deferred_message_comes_now(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    message_id = await _deferred_message(bot, admin_conn, chat)

    bot.clock.now = EVENING + timedelta(minutes=10)
    await _set_quiet(bot, chat, "none")

    row = await _message(admin_conn, message_id)
    assert (row["status"], row["scheduled_time"]) == ("pending", bot.clock.now)
    assert row["last_error"] == RELEASED_REASON
    await _sent_now(bot, admin_conn, chat, message_id)


async def test_a_narrower_window_that_has_ended_sends_it_one_still_on_moves_its_end(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    message_id = await _deferred_message(bot, admin_conn, chat)
    bot.clock.now = EVENING + timedelta(minutes=10)

    # Still inside at 22:10, ending earlier: it waits for 06:00, not 08:00.
    await _set_quiet(bot, chat, "22:00-06:00")
    row = await _message(admin_conn, message_id)
    assert (row["status"], row["last_error"]) == ("pending", DEFERRED)
    assert row["scheduled_time"] == NEXT_MORNING - timedelta(hours=2)
    assert await _dispatcher(bot).run_once() == 0

    # Wider: later.
    await _set_quiet(bot, chat, "20:00-09:00")
    assert (await _message(admin_conn, message_id))["scheduled_time"] == NEXT_MORNING + timedelta(
        hours=1
    )

    # Not begun yet at 22:10: it goes now.
    await _set_quiet(bot, chat, "23:00-07:00")
    await _sent_now(bot, admin_conn, chat, message_id)


async def test_moving_to_a_zone_where_it_is_afternoon_sends_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    message_id = await _deferred_message(bot, admin_conn, chat)
    bot.clock.now = EVENING + timedelta(minutes=10)  # 16:10 in Chicago

    await bot.send(chat, "/settings")
    await bot.press(chat, "Time zone")
    await bot.send(chat, "Chicago")
    await bot.press(chat, "Yes")

    await _sent_now(bot, admin_conn, chat, message_id)


async def test_the_same_window_again_changes_nothing(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    message_id = await _deferred_message(bot, admin_conn, chat)
    before = await _message(admin_conn, message_id)
    bot.clock.now = EVENING + timedelta(minutes=10)

    await _set_quiet(bot, chat, "21:00-08:00")

    after = await _message(admin_conn, message_id)
    assert (after["scheduled_time"], after["last_error"], after["updated_at"]) == (
        before["scheduled_time"],
        before["last_error"],
        before["updated_at"],
    )


async def test_a_wider_window_holds_a_message_not_deferred_yet(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The reverse: a message due at 22:30, outside 23:00-07:00 when it was made, falls inside
    the 22:00-07:00 the patient sets at 22:20; the dispatcher defers it when it is due."""
    chat = bot.new_chat()
    patient = await registered_patient(
        bot, admin_conn, chat, quiet_start=time(23, 0), quiet_end=time(7, 0)
    )
    due = EVENING + timedelta(minutes=30)
    row = await create_message(admin_conn, patient["id"], message_content=TEXT, scheduled_time=due)
    bot.clock.now = EVENING + timedelta(minutes=20)
    await _set_quiet(bot, chat, "22:00-07:00")
    assert (await _message(admin_conn, row["id"]))["scheduled_time"] == due  # untouched

    bot.clock.now = due
    assert await _dispatcher(bot).run_once() == 1
    message = await _message(admin_conn, row["id"])
    assert (message["status"], message["last_error"]) == ("pending", DEFERRED)
    assert message["scheduled_time"] == NEXT_MORNING - timedelta(hours=1)
    assert TEXT not in _texts(bot, chat)


async def test_a_caregivers_alert_keeps_waiting_out_the_caregivers_night(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The patient's own window is the patient's night: removing it does not wake a caregiver,
    whose alert waits out the clinic's default window (21:00-08:00 here)."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, **NIGHT)
    caregiver = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address) "
        "values ($1, 'Lucía', 'sms', '+15550123') returning id",
        patient["id"],
    )
    (dose,) = await dose_events(admin_conn, patient["id"], [EVENING - timedelta(hours=2)])
    bot.clock.now = EVENING
    alert = await create_message(
        admin_conn,
        patient["id"],
        kind="missed_dose_caregiver",
        caregiver_id=caregiver,
        dose_event_id=dose,
        platform="sms",
        allow_fallback=False,
        message_content="Ana has not confirmed a dose",
        scheduled_time=EVENING,
    )
    assert await _dispatcher(bot).run_once() == 1
    assert (await _message(admin_conn, alert["id"]))["scheduled_time"] == NEXT_MORNING

    bot.clock.now = EVENING + timedelta(minutes=10)
    await _set_quiet(bot, chat, "none")

    row = await _message(admin_conn, alert["id"])
    assert (row["status"], row["last_error"]) == ("pending", DEFERRED)
    assert row["scheduled_time"] == NEXT_MORNING
    assert not bot.sms_to("+15550123")


async def test_follow_ups_quiet_hours_dropped_come_back_only_ahead_no_burst(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A reminder at 20:45 gets no follow-ups inside 21:00-08:00. "none" at 21:20 brings back
    the one still ahead (21:30), not the two whose time passed (21:00, 21:15): no stale burst."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, **NIGHT)
    due = EVENING - timedelta(minutes=75)  # 20:45
    (dose,) = await dose_events(admin_conn, patient["id"], [due])
    bot.clock.now = due
    await remind(bot, admin_conn, patient["id"], dose_id=dose)
    await run_planner_tick(bot.ctx.pool, bot.clock.now, bot.ctx.settings)
    followups = "select scheduled_time from scheduled_messages where kind = 'dose_followup'"
    assert await admin_conn.fetch(followups) == []

    bot.clock.now = due + timedelta(minutes=35)  # 21:20
    await _set_quiet(bot, chat, "none")
    assert [r[0] for r in await admin_conn.fetch(followups)] == [due + timedelta(minutes=45)]
    sent_before = len(bot.messages_to(chat))
    assert await _dispatcher(bot).run_once() == 0
    assert len(bot.messages_to(chat)) == sent_before

    bot.clock.now = due + timedelta(minutes=45)
    assert await _dispatcher(bot).run_once() == 1
