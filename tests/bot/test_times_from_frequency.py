"""At "At what times?", how often a medicine is taken gets its usual times to keep or replace:
"3 times a day" was "I couldn't read that time" (found by hand in medremind dev's console)."""

from __future__ import annotations

from datetime import time

import asyncpg
import pytest

from bot.dose_frequency import suggested_times
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient


@pytest.mark.parametrize(
    ("typed", "times"),
    [
        ("3 times a day", (8, 14, 20)),
        ("Twice daily", (8, 20)),
        ("2x a day", (8, 20)),
        ("TID", (8, 14, 20)),
        ("4 times per day", (8, 12, 16, 20)),
        ("every 8 hours", (6, 14, 22)),
        ("q12h", (8, 20)),
        ("every 6 hours", (0, 6, 12, 18)),
        ("tres veces al día", (8, 14, 20)),
        ("cada 8 horas", (6, 14, 22)),
        # Not guessed: once a day (which time matters), other intervals, times, numbers.
        ("once a day", None),
        ("1 time a day", None),
        ("every 5 hours", None),
        ("5 times a day", None),
        ("8:00", None),
        ("3", None),
    ],
)
def test_what_is_suggested(typed: str, times: tuple[int, ...] | None) -> None:
    frequency = suggested_times(typed)
    if times is None:
        assert frequency is None
    else:
        assert frequency is not None and frequency.times == tuple(time(h) for h in times)


async def _at_times(bot: Bot, admin_conn: asyncpg.Connection, locale: str = "en") -> int:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale=locale)
    for text in ("/add", "Amoxicillin", "500 mg"):
        await bot.send(chat, text)
    return chat


async def test_three_times_a_day_is_suggested_and_kept(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = await _at_times(bot, admin_conn)
    await bot.send(chat, "3 times a day")
    said = bot.last_text(chat).replace("\u202f", " ")
    assert said.startswith("3 times a day: 8:00 AM, 2:00 PM, 8:00 PM. Press Done"), said
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")
    await bot.send(chat, "SKIP")
    await bot.press(chat, "Save")
    times = await admin_conn.fetchval("select times_of_day::text from reminder_schedules")
    assert times == "{08:00:00,14:00:00,20:00:00}", times


async def test_times_typed_after_a_suggestion_replace_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = await _at_times(bot, admin_conn)
    await bot.send(chat, "every 8 hours")
    await bot.send(chat, "7:00, 15:00, 23:00")
    said = bot.last_text(chat).replace("\u202f", " ")
    assert said.startswith("Times so far: 7:00 AM, 3:00 PM, 11:00 PM."), said
    # A time added after that adds, as before.
    await bot.send(chat, "12:00")
    said = bot.last_text(chat).replace("\u202f", " ")
    assert said.startswith("Times so far: 7:00 AM, 12:00 PM, 3:00 PM, 11:00 PM."), said


async def test_spanish(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = await _at_times(bot, admin_conn, locale="es")
    await bot.send(chat, "2 veces al día")
    said = bot.last_text(chat)
    assert said.startswith("2 veces al día: 8:00, 20:00. Pulsa Listo"), said
