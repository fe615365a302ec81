"""A command typed in the middle of a dialog says what it dropped.

Found by hand in medremind dev's console: seven answers about Amoxicillin, then /meds at "Save
it?": "You have no medicines yet", and the "1" (Save) that followed found nothing waiting. The
medicine was dropped without a word and no reminder was ever planned for it.
"""

from __future__ import annotations

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient


async def _to_save_question(bot: Bot, chat: int) -> None:
    for text in ("/add", "Amoxicillin", "500 mg", "8:00"):
        await bot.send(chat, text)
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")
    await bot.send(chat, "SKIP")
    assert "Save it?" in bot.last_text(chat), bot.last_text(chat)


async def test_meds_at_save_says_the_medicine_was_not_saved(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _to_save_question(bot, chat)
    await bot.send(chat, "/meds")
    said = bot.last_text(chat)
    assert said.startswith(
        "Amoxicillin was not saved: adding it stopped here. Send /add to add it.\n\n"
    ), said
    assert "You have no medicines yet" in said, said
    assert await admin_conn.fetchval("select count(*) from medications") == 0


async def test_help_keeps_the_dialog_and_says_nothing_of_it(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _to_save_question(bot, chat)
    await bot.send(chat, "/help")
    assert "not saved" not in bot.last_text(chat), bot.last_text(chat)
    await bot.press(chat, "Save")
    assert bot.last_text(chat).startswith("Saved."), bot.last_text(chat)
    assert await admin_conn.fetchval("select name from medications") == "Amoxicillin"


async def test_cancel_says_cancelled_alone(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _to_save_question(bot, chat)
    await bot.send(chat, "/cancel")
    assert bot.last_text(chat) == "OK, cancelled.", bot.last_text(chat)


async def test_a_new_add_names_the_one_dropped(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale="es")
    for text in ("/add", "Amoxicilina", "500 mg"):
        await bot.send(chat, text)
    await bot.send(chat, "/add Ibuprofeno")
    said = bot.last_text(chat)
    assert said.startswith(
        "Amoxicilina no se guardó: añadirlo se detuvo aquí. Escribe /add para añadirlo.\n\n"
    ), said


async def test_editing_times_then_today_says_the_times_stay(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _to_save_question(bot, chat)
    await bot.press(chat, "Save")
    await bot.send(chat, "/meds")
    await bot.press(chat, "Edit times of Amoxicillin")
    await bot.send(chat, "9:00")
    await bot.send(chat, "/today")
    said = bot.last_text(chat)
    assert said.startswith(
        "The new times for Amoxicillin were not saved: Amoxicillin keeps its times.\n\n"
    ), said
    times = await admin_conn.fetchval("select times_of_day::text from reminder_schedules")
    assert times == "{08:00:00}", times
