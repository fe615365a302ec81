"""The end question takes how long a course lasts: "for 10 days" for an antibiotic was "I couldn't
read that date" (found by hand in medremind dev's console). The course's first day is its start:
ten days from Dec 10 end on Dec 19, and the summary says so before anything is saved."""

from __future__ import annotations

import asyncpg
import pytest

from bot.dialogs.medicine_dates import course_days
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("for 10 days", 10),
        ("10 days", 10),
        ("For 1 day.", 1),
        ("2 weeks", 14),
        ("7d", 7),
        ("por 7 días", 7),
        ("durante 2 semanas", 14),
        ("10", None),
        ("for ever", None),
        ("0 days", None),
        ("999 weeks", None),
        ("10 months", None),
    ],
)
def test_what_reads_as_a_course(typed: str, days: int | None) -> None:
    assert course_days(typed) == days


async def _to_end(bot: Bot, chat: int, start: str) -> None:
    for text in ("/add", "Amoxicillin", "500 mg", "8:00"):
        await bot.send(chat, text)
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.send(chat, start)


async def test_for_ten_days_ends_on_the_tenth_day(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _to_end(bot, chat, "2026-12-10")
    assert "how long (for 10 days)" in bot.last_text(chat), bot.last_text(chat)
    await bot.send(chat, "for 10 days")
    await bot.send(chat, "SKIP")
    summary = bot.last_text(chat).replace("\u202f", " ")
    assert "From Dec 10, 2026 until Dec 19, 2026" in summary, summary
    await bot.press(chat, "Save")
    end = await admin_conn.fetchval("select end_date::text from reminder_schedules")
    assert end == "2026-12-19", end


async def test_spanish_weeks(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale="es")
    for text in ("/add", "Amoxicilina", "500 mg", "8:00"):
        await bot.send(chat, text)
    await bot.press(chat, "Listo")
    await bot.press(chat, "Todos los días")
    await bot.send(chat, "2026-12-10")
    await bot.send(chat, "por 2 semanas")
    await bot.send(chat, "OMITIR")
    await bot.press(chat, "Guardar")
    end = await admin_conn.fetchval("select end_date::text from reminder_schedules")
    assert end == "2026-12-23", end
