"""/add's last word, and /meds, name a start date later than today: "Saved. I'll remind you at
6:00 PM." alone read as from today, for a medicine whose first reminder was weeks away (found in
medremind dev: a typed "3/1" read as 3 January, saved without a word of it, and /meds said "at
6:00 PM, every day"). /meds names an end date too."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient

# The buttons and words of /add, in English and in Spanish.
EN = {"done": "Done", "every": "Every day", "no_end": "No end date", "skip": "SKIP", "save": "Save"}
ES = {
    "done": "Listo",
    "every": "Todos los días",
    "no_end": "Sin fecha de fin",
    "skip": "OMITIR",
    "save": "Guardar",
    "today": "Hoy",
}


async def _add(
    bot: Bot, chat: int, start: str, words: dict[str, str] = EN, at: str = "18:00"
) -> str:
    """/add Warfarin 5 mg at ``at`` every day from ``start`` (typed, or "Today" pressed), no
    end, no pill count, saved: the bot's last word, as read."""
    for text in ("/add", "Warfarin", "5 mg", at):
        await bot.send(chat, text)
    await bot.press(chat, words["done"])
    await bot.press(chat, words["every"])
    if start == "Today":
        await bot.press(chat, words.get("today", "Today"))
    else:
        await bot.send(chat, start)
    await bot.press(chat, words["no_end"])
    await bot.send(chat, words["skip"])
    await bot.press(chat, words["save"])
    return bot.last_text(chat).replace("\u202f", " ")


async def test_a_later_start_is_named_when_saved(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    saved = await _add(bot, chat, "2026-04-15")
    assert saved.startswith("Saved. I'll remind you at 6:00 PM, starting Apr 15, 2026."), saved


async def test_a_start_today_is_said_as_before(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    saved = await _add(bot, chat, "Today")
    assert saved.startswith("Saved. I'll remind you at 6:00 PM."), saved
    # In the hour Santiago's clocks fall back, 11:55 PM happens twice and fires at its first:
    # saved at the second 11:50 PM, it comes tomorrow, and "at 11:55 PM" alone read as tonight.
    await admin_conn.execute(
        "update patients set timezone = 'America/Santiago', home_timezone = 'America/Santiago'"
    )
    bot.clock.now = datetime(2027, 4, 4, 3, 50, tzinfo=UTC)  # 11:50 PM, Apr 3, the second time
    saved = await _add(bot, chat, "Today", at="23:55")
    assert saved.startswith("Saved. I'll remind you at 11:55 PM, starting Apr 4, 2027."), saved


async def test_spanish_names_the_start_too(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale="es")
    saved = await _add(bot, chat, "2026-04-15", ES)
    assert saved.startswith("Guardado. Te lo recordaré a las 18:00, a partir del 15 abr 2026."), (
        saved
    )


async def test_meds_names_a_later_start_and_an_end(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _add(bot, chat, "2026-04-15")
    await bot.send(chat, "/meds")
    listed = bot.last_text(chat).replace("\u202f", " ")
    assert "1. Warfarin (5 mg) at 6:00 PM, every day, from Apr 15, 2026" in listed, listed
    # Today's start is not said; an end date is.
    await admin_conn.execute(
        "update reminder_schedules set start_date = '2026-03-02', end_date = '2026-05-31'"
    )
    await bot.send(chat, "/meds")
    listed = bot.last_text(chat).replace("\u202f", " ")
    assert "1. Warfarin (5 mg) at 6:00 PM, every day, until May 31, 2026\n" in listed + "\n", listed


async def test_a_time_the_clocks_skip_tonight_says_when_it_comes(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """1:30 AM saved the evening before London's clocks go from 1:00 to 2:00: that night it
    comes at 2:00 AM, the gap's end (scheduler/recurrence.py), and "I'll remind you at 1:30
    AM" alone promised a time no clock showed (found using the bot as a patient). Said as a
    snooze across the change is; in Spanish too (Madrid goes from 2:00 to 3:00); saved the day
    after, nothing is added."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, timezone="Europe/London")
    bot.clock.now = datetime(2027, 3, 27, 20, 0, tzinfo=UTC)  # Saturday, 8 PM in London
    saved = await _add(bot, chat, "Today", at="1:30")
    # (Then that 1:30 AM is inside the default quiet hours, 9 PM to 8 AM.)
    assert saved.startswith(
        "Saved. I'll remind you at 1:30 AM."
        " The clocks change tonight, so your 1:30 AM reminder comes at 2:00 AM. Your reminder"
    ), saved
    spanish = bot.new_chat()
    await registered_patient(bot, admin_conn, spanish, locale="es", timezone="Europe/Madrid")
    saved = await _add(bot, spanish, "Today", ES, at="2:30")
    assert saved.startswith(
        "Guardado. Te lo recordaré a las 2:30."
        " Esta noche cambia la hora, así que tu recordatorio de las 2:30 llega a las 3:00. Tu"
    ), saved
    bot.clock.now = datetime(2027, 3, 28, 12, 0, tzinfo=UTC)
    saved = await _add(bot, chat, "Today", at="1:30")
    assert saved.startswith("Saved. I'll remind you at 1:30 AM. Your reminder"), saved
    assert "clocks" not in saved, saved
