"""End to end over the fake Telegram Bot API: onboarding, medicines, reminder answers."""

from __future__ import annotations

from datetime import time

import asyncpg

from tests.bot.conftest import Bot


async def onboard(bot: Bot, chat: int, *, name: str = "Ana") -> None:
    """A new patient from /start to the end of onboarding (Madrid, no phone)."""
    await bot.send(chat, "/start")
    assert "Privacy" in bot.last_text(chat)
    await bot.press(chat, "I agree")
    assert "What should I call you" in bot.last_text(chat)
    await bot.send(chat, name)
    await bot.press(chat, "English")
    assert "time zone" in bot.last_text(chat)
    await bot.send(chat, "Madrid")
    assert "(Madrid)" in bot.last_text(chat)
    assert "10:00" in bot.last_text(chat)  # 09:00 UTC is 10:00 in Madrid in March
    await bot.press(chat, "Yes")
    assert "phone" in bot.last_text(chat)
    await bot.press(chat, "Skip")
    assert "All set" in bot.last_text(chat)


async def test_the_phone_step_accepts_its_own_example(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Ana")
    await bot.press(chat, "English")
    await bot.send(chat, "Chicago")
    await bot.press(chat, "Yes")
    prompt = bot.last_text(chat)
    example = prompt.split("Send it like ", 1)[1].split(",", 1)[0]
    assert example == "+1 202 555 0143"
    await bot.send(chat, example)  # spaces and all
    number = await admin_conn.fetchval("select address from contact_points where channel = 'sms'")
    assert number == "+12025550143"


async def add_medicine(bot: Bot, chat: int, name: str = "Metformin") -> None:
    await bot.send(chat, "/add")
    await bot.send(chat, name)
    await bot.send(chat, "500 mg")
    await bot.press(chat, "Morning 08:00")
    await bot.send(chat, "8pm")
    assert "8:00" in bot.last_text(chat) and "PM" in bot.last_text(chat)
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")
    await bot.send(chat, "60")
    assert "Save it?" in bot.last_text(chat)
    await bot.press(chat, "Save")
    assert "Saved" in bot.last_text(chat)


async def test_new_patient_to_medicine_with_two_daily_times(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await onboard(bot, chat)
    await add_medicine(bot, chat)

    patient = await admin_conn.fetchrow("select * from patients")
    assert patient["display_name"] == "Ana"
    assert patient["timezone"] == "Europe/Madrid"
    assert patient["consent_at"] is not None
    contact = await admin_conn.fetchrow("select * from contact_points")
    assert (contact["channel"], contact["address"]) == ("telegram", str(chat))
    med = await admin_conn.fetchrow("select * from medications")
    assert (med["name"], med["dose"], med["pill_count"]) == ("Metformin", "500 mg", 60)
    schedule = await admin_conn.fetchrow("select * from reminder_schedules")
    assert schedule["times_of_day"] == [time(8, 0), time(20, 0)]
    assert schedule["days_of_week"] is None
    assert schedule["patient_id"] == patient["id"]
    # Saving planned the schedule at once (the planner's replan_schedule): 08:00 and 20:00
    # Madrid time from today on.
    due = await admin_conn.fetch("select due_at, local_time from dose_events order by due_at")
    assert due and {r["local_time"] for r in due} == {time(8, 0), time(20, 0)}
    # Every update was stored and processed.
    statuses = await admin_conn.fetch("select distinct status from inbound_messages")
    assert [r["status"] for r in statuses] == ["processed"]
