"""A typed start or end date is read the patient's way round, and a date that could be either
way round is asked back in words before it is kept.

Every typed date was read day first: a patient texting from a US number who typed "3/1" for the
day they start got 3 January (the hint even said "day first"), two months of reminders too early;
as an end date, two months too few. The order now comes from the patient's region (the number
they write from or gave, else their time zone's country; bot.date_order), and "3/1", which can be
either, is asked back as "March 1, 2027" or "January 3, 2027", the region's reading first.
Reported by H1 over SMS. Over the loopback Twilio SMS and Bot API, on an injected clock at 3 a.m.
in New York.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient, whatsapp_chat

US = "+14155550161"
SPAIN = "+34600111222"
# 03:00 in New York, 09:00 in Madrid, on a Saturday in December.
NIGHT = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def body(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


async def _to_the_start_question(bot: Bot, number: str, every_day: str = "Every day") -> None:
    for text in ("/add", "Iron", "skip", "8:00", "done"):
        await bot.sms(number, text)
    await bot.sms(number, every_day)


async def _dates(conn: asyncpg.Connection) -> tuple[str, str | None]:
    row = await conn.fetchrow("select start_date, end_date from reminder_schedules")
    return str(row["start_date"]), str(row["end_date"]) if row["end_date"] else None


async def test_a_us_patient_is_asked_which_3_1_and_month_first_is_offered_first(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    bot.clock.now = NIGHT
    await registered_patient(bot, admin_conn, US, channel="sms", timezone="America/New_York")
    await _to_the_start_question(bot, US)
    asked = body(await bot.sms(US, "3/1"))
    assert "3/1 could be either date. When do you start?" in asked, asked
    assert asked.endswith("1 Mon, Mar 1, 2027\n2 Sun, Jan 3, 2027"), asked
    assert "When do you stop?" in body(await bot.sms(US, "1"))
    # An end date only one way round can be after the start is taken as it is: 5/1/2027 is
    # May 1 (January 5 is before March 1).
    assert "How many pills" in body(await bot.sms(US, "5/1/2027"))
    await bot.sms(US, "skip")
    assert "Saved" in body(await bot.sms(US, "Save"))
    assert await _dates(admin_conn) == ("2027-03-01", "2027-05-01")


async def test_a_spanish_patient_gets_day_first_and_13_1_is_not_asked(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    bot.clock.now = NIGHT
    await registered_patient(
        bot, admin_conn, SPAIN, channel="sms", timezone="Europe/Madrid", locale="es"
    )
    await _to_the_start_question(bot, SPAIN, every_day="Todos los días")
    unread = body(await bot.sms(SPAIN, "pronto"))
    assert "Prueba 2026-12-13 o 13/12/2026 (dia primero)." in unread, unread
    asked = body(await bot.sms(SPAIN, "3/1"))
    assert "3/1 puede ser cualquiera de estas fechas. ¿Cuando empiezas?" in asked, asked
    # The weekday first: "1 3 de enero" read as the 1st (SMS: GSM-7 letters, "sab").
    assert asked.endswith("1 dom, 3 ene 2027\n2 lun, 1 mar 2027"), asked
    # Another date typed instead of a pick is read afresh; 13/1 can only be 13 January.
    assert "¿Cuando terminas?" in body(await bot.sms(SPAIN, "13/1"))
    asked = body(await bot.sms(SPAIN, "2/3"))
    assert "¿Cuando terminas?" in asked and asked.endswith("1 mar, 2 mar 2027\n2 mié, 3 feb 2027")
    await bot.sms(SPAIN, "2")
    await bot.sms(SPAIN, "omitir")
    assert "Guardado" in body(await bot.sms(SPAIN, "1"))
    assert await _dates(admin_conn) == ("2027-01-13", "2027-02-03")


async def test_telegram_takes_the_order_from_the_time_zone(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """No number to go by: New York's zone says month first; the readings are buttons."""
    bot.clock.now = NIGHT
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, timezone="America/New_York")
    for text in ("/add", "Iron", "skip", "8:00", "done"):
        await bot.send(chat, text)
    await bot.press(chat, "Every day")
    await bot.send(chat, "someday")
    assert "Try 2026-12-13 or 12/13/2026 (month first)." in bot.last_text(chat)
    await bot.send(chat, "12/6")
    assert bot.labels(chat) == ["Sun, Dec 6, 2026", "Sat, Jun 12, 2027"]
    await bot.press(chat, "Sun, Dec 6, 2026")
    assert "When do you stop?" in bot.last_text(chat)


async def test_whatsapp_buttons_keep_the_year(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    """The two dates are WhatsApp buttons (20 characters at most), whole: "6 de diciembre de
    2026" would lose its year to an ellipsis."""
    bot.clock.now = NIGHT
    await registered_patient(
        bot, admin_conn, SPAIN, channel="whatsapp", timezone="Europe/Madrid", locale="es"
    )
    async with whatsapp_chat(bot, SPAIN, quick_replies=True) as wa:
        for text in ("/add", "Hierro", "omitir", "8:00", "listo", "Todos los días"):
            await wa(text)
        assert "¿Cuándo empiezas?" in await wa("12/6"), wa.buttons()
        assert wa.buttons() == ["sáb, 12 jun 2027", "dom, 6 dic 2026"]
        assert "¿Cuándo terminas?" in await wa.press("dom, 6 dic 2026")
    start = "select state->'data'->>'start' from conversations where step = 'add_end'"
    assert await admin_conn.fetchval(start) == "2026-12-06"


async def test_no_end_date_typed_in_words(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    """The end question says "or no end date" ("o sin fecha de fin"): those words, short or
    whole, are no end date ("sin fecha" was "I couldn't read that date")."""
    bot.clock.now = NIGHT
    await registered_patient(bot, admin_conn, US, channel="sms", timezone="America/New_York")
    for typed in ("no end", "Sin fecha", "never"):
        await _to_the_start_question(bot, US)
        await bot.sms(US, "today")
        assert "How many pills" in body(await bot.sms(US, typed)), typed
        await bot.sms(US, "/cancel")
