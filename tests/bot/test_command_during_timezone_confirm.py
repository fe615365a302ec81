"""A slash command typed while onboarding (or /settings) waits for "Is your local time now ...?".

Commands leave the dialog under way (bot.engine). Leaving this one used to drop the zone the
patient had just chosen without a word: registered on UTC, their first medicine was planned an
hour off Madrid while the bot said "I'll remind you at" the time they typed.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.bot.test_telegram_flow import add_medicine

NUMBER = "+34600555123"


async def until_zone_confirmation(bot: Bot, chat: int) -> None:
    """/start to the time zone's confirmation, Madrid chosen (10:00 there at the clock's start)."""
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Ana")
    await bot.press(chat, "English")
    await bot.press(chat, "Madrid")
    assert "Is your local time now 10:00 AM (Europe/Madrid)?" in bot.last_text(chat)


async def test_a_command_keeps_the_chosen_zone_and_says_so(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await until_zone_confirmation(bot, chat)
    sent = len(bot.messages_to(chat))
    await add_medicine(bot, chat)  # its /add answers the confirmation's place

    said = [m.text or "" for m in bot.messages_to(chat)[sent:]]
    assert "Your time zone is Europe/Madrid (your local time now is 10:00 AM)" in said[0]
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"
    # 08:00 and 20:00 in Madrid (UTC+1 in March), not in UTC.
    due = await admin_conn.fetch("select due_at, local_time from dose_events order by due_at")
    first = next(r for r in due if r["local_time"] == time(20, 0))
    assert first["due_at"] == datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    await bot.send(chat, "/settings")
    assert "Europe/Madrid" in bot.last_text(chat)


async def test_cancel_keeps_the_zone_in_effect_and_names_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await until_zone_confirmation(bot, chat)
    await bot.send(chat, "/cancel")
    said = " ".join(m.text or "" for m in bot.messages_to(chat)[-2:])
    assert "Your time zone stays UTC" in said and "/settings" in said
    assert await admin_conn.fetchval("select timezone from patients") == "UTC"


async def test_over_sms_the_same(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    await bot.sms(NUMBER, "START")
    await bot.sms(NUMBER, "1")  # I agree
    await bot.sms(NUMBER, "Ana")
    await bot.sms(NUMBER, "1")  # English
    replies = await bot.sms(NUMBER, "Madrid")
    assert "Europe/Madrid" in "".join(c.body or "" for c in replies)
    replies = await bot.sms(NUMBER, "/add")
    said = "\n".join(c.body or "" for c in replies)
    assert "Your time zone is Europe/Madrid (your local time now is 10:00 AM)" in said
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"


async def test_from_settings_a_command_keeps_the_new_zone(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)  # UTC
    await bot.send(chat, "/settings")
    await bot.press(chat, "Time zone")
    await bot.press(chat, "Madrid")
    sent = len(bot.messages_to(chat))
    await bot.send(chat, "/today")
    said = [m.text or "" for m in bot.messages_to(chat)[sent:]]
    assert "Your time zone is Europe/Madrid" in said[0] and len(said) == 2
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"
