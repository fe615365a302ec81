"""The example dates /add's start and end questions give are dates the steps take.

They were fixed texts ("type a date like 2026-04-01"): from 2027 on the end question's own
example was refused ("The end date must be on or after the start date"), found by hand in
medremind dev's console on a clock moved to March 2027. The examples now count from today and
from the chosen start, in the reply to a date it cannot read too. Over loopback Twilio SMS.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient

NUMBER = "+15005550166"
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def body(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


async def test_the_example_dates_are_taken_a_year_on(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    bot.clock.now = datetime(2027, 6, 10, 9, 0, tzinfo=UTC)
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    for text in ("/add", "Iron", "skip", "8:00", "done"):
        await bot.sms(NUMBER, text)
    asked = body(await bot.sms(NUMBER, "Every day"))
    # Written as the patient's region writes dates: month first for a US number.
    assert "type a date like 6/17/2027." in asked, asked
    assert not ISO.findall(asked), asked
    unread = body(await bot.sms(NUMBER, "soon"))
    # A US number: the example in numbers is month first (bot.date_order); 17/6 can only be
    # day first, and is taken as such.
    assert "Try 2027-06-17 or 6/17/2027 (month first)" in unread, unread
    asked = body(await bot.sms(NUMBER, "17/6/2027"))
    assert "Type a date like 7/17/2027," in asked, asked
    unread = body(await bot.sms(NUMBER, "later"))
    assert "Try 2027-07-17 or 7/17/2027" in unread, unread
    assert "How many pills" in body(await bot.sms(NUMBER, "2027-07-17"))
    await bot.sms(NUMBER, "skip")
    assert "Saved" in body(await bot.sms(NUMBER, "Save"))
    dates = await admin_conn.fetchrow("select start_date, end_date from reminder_schedules")
    assert (str(dates["start_date"]), str(dates["end_date"])) == ("2027-06-17", "2027-07-17")


async def test_a_day_first_patient_is_shown_day_first_dates_and_they_are_taken(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A Spanish number: the examples are day first ("13/1/2027"), never ISO, and past the 12th
    (a week on is 9 January, which "9/1/2027" could write either way round: the patient typing
    it back would be asked which date they meant). Typed back as shown, each is taken."""
    number = "+34600123456"
    bot.clock.now = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    await registered_patient(
        bot, admin_conn, number, channel="sms", timezone="Europe/Madrid", locale="es"
    )
    for text in ("/add", "Hierro", "omitir", "8:00", "listo"):
        await bot.sms(number, text)
    asked = body(await bot.sms(number, "1"))  # Todos los días
    assert "escribe una fecha como 13/1/2027." in asked, asked
    assert not ISO.findall(asked), asked
    asked = body(await bot.sms(number, "13/1/2027"))
    assert "Escribe una fecha como 13/2/2027," in asked, asked
    assert "pastillas" in body(await bot.sms(number, "13/2/2027"))
    await bot.sms(number, "omitir")
    await bot.sms(number, "Guardar")
    dates = await admin_conn.fetchrow("select start_date, end_date from reminder_schedules")
    assert (str(dates["start_date"]), str(dates["end_date"])) == ("2027-01-13", "2027-02-13")
