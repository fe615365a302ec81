"""A slash command typed while onboarding (or /settings) waits for "Is your local time now ...?",
or earlier, at "Which time zone are you in?", and an opt-out at the confirmation.

Commands leave the dialog under way (bot.engine). Leaving this one used to drop the zone the
patient had just chosen without a word: registered on UTC, their first medicine was planned an
hour off Madrid while the bot said "I'll remind you at" the time they typed. One typed before a
zone was chosen left them on UTC, silently too.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import asyncpg
import pytest

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
    assert "Is your local time now 10:00 AM (Madrid)?" in bot.last_text(chat)


async def test_a_command_keeps_the_chosen_zone_and_says_so(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await until_zone_confirmation(bot, chat)
    sent = len(bot.messages_to(chat))
    await add_medicine(bot, chat)  # its /add answers the confirmation's place

    said = [m.text or "" for m in bot.messages_to(chat)[sent:]]
    assert "Your time zone is Madrid (your local time now is 10:00 AM)" in said[0]
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"
    # 08:00 and 20:00 in Madrid (UTC+1 in March), not in UTC.
    due = await admin_conn.fetch("select due_at, local_time from dose_events order by due_at")
    first = next(r for r in due if r["local_time"] == time(20, 0))
    assert first["due_at"] == datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    await bot.send(chat, "/settings")
    assert "Time zone: Madrid (" in bot.last_text(chat)


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
    assert "(Madrid)" in "".join(c.body or "" for c in replies)
    replies = await bot.sms(NUMBER, "/add")
    said = "\n".join(c.body or "" for c in replies)
    assert "Your time zone is Madrid (your local time now is 10:00 AM)" in said
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
    # One message: the note, then /today's answer (one inbound, one reply).
    assert len(said) == 1 and said[0].startswith("Your time zone is Madrid"), said
    assert "\n\n" in said[0]
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"


async def until_zone_question(bot: Bot, chat: int) -> None:
    """/start to onboarding's 'Which time zone are you in?'."""
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Ana")
    await bot.press(chat, "English")
    assert "Which time zone are you in?" in bot.last_text(chat)


NOT_CHOSEN = (
    "You have not chosen your time zone yet: reminders follow UTC (the time there now is"
    " 9:00 AM). To choose yours, send /settings."
)


@pytest.mark.parametrize("command", ["/add", "/help", "/cancel", "/today", "/start"])
async def test_a_command_at_the_zone_question_names_the_zone_in_effect(
    bot: Bot, admin_conn: asyncpg.Connection, command: str
) -> None:
    chat = bot.new_chat()
    await until_zone_question(bot, chat)
    sent = len(bot.messages_to(chat))
    await bot.send(chat, command)
    said = [m.text or "" for m in bot.messages_to(chat)[sent:]]
    # One message: the note, then the command's own answer below it.
    assert len(said) == 1 and said[0].startswith(NOT_CHOSEN + "\n\n"), said
    assert await admin_conn.fetchval("select timezone from patients") == "UTC"


async def test_at_the_name_question_too_but_not_a_start_that_asks_it_again(bot: Bot) -> None:
    chat = bot.new_chat()
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    sent = len(bot.messages_to(chat))
    await bot.send(chat, "/start")  # asks for the name again: the zone question is to come
    assert [m.text for m in bot.messages_to(chat)[sent:]] == ["What should I call you?"]
    await bot.send(chat, "/help")
    assert (bot.last_text(chat)).startswith(NOT_CHOSEN + "\n\n")


async def test_settings_at_the_zone_question_shows_the_zone_in_its_menu_alone(bot: Bot) -> None:
    chat = bot.new_chat()
    await until_zone_question(bot, chat)
    sent = len(bot.messages_to(chat))
    await bot.send(chat, "/settings")
    said = [m.text or "" for m in bot.messages_to(chat)[sent:]]
    assert len(said) == 1 and "UTC" in said[0]


async def test_in_spanish_over_sms(bot: Bot) -> None:
    await bot.sms(NUMBER, "START")
    await bot.sms(NUMBER, "1")  # I agree
    await bot.sms(NUMBER, "Ana")
    await bot.sms(NUMBER, "2")  # Español
    said = "\n".join(c.body or "" for c in await bot.sms(NUMBER, "/today"))
    assert "Aun no has elegido tu zona horaria: los recordatorios siguen UTC" in said
    assert "/settings" in said


async def test_settings_at_the_confirmation_keeps_the_zone_and_shows_its_menu_alone(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Its menu names the zone: no note above it telling to send /settings (the stateful
    answer router test found two replies to one /settings)."""
    chat = bot.new_chat()
    await until_zone_confirmation(bot, chat)
    sent = len(bot.messages_to(chat))
    await bot.send(chat, "/settings")
    said = [m.text or "" for m in bot.messages_to(chat)[sent:]]
    assert len(said) == 1 and "Time zone: Madrid" in said[0], said
    assert "send /settings" not in said[0]
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"


async def test_over_sms_a_command_at_the_confirmation_is_answered_in_one_message(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    await bot.sms(NUMBER, "START")
    await bot.sms(NUMBER, "1")  # I agree
    await bot.sms(NUMBER, "Ana")
    await bot.sms(NUMBER, "1")  # English
    await bot.sms(NUMBER, "Madrid")
    for command in ("/today", "/meds", "/settings"):
        replies = await bot.sms(NUMBER, command)
        assert len(replies) == 1, (command, [c.body for c in replies])
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"


async def test_an_opt_out_at_the_confirmation_keeps_the_chosen_zone_on_telegram(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The patient told us where they live; stopping messages does not take it back. As
    STOP on SMS (below): both save it, and the confirmation still answers after /start."""
    chat = bot.new_chat()
    await until_zone_confirmation(bot, chat)
    await bot.send(chat, "/stop")
    assert "You will not get any more messages" in bot.last_text(chat)
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"
    await bot.send(chat, "/start")
    await bot.press(chat, "Yes")
    assert "phone" in bot.last_text(chat)  # onboarding goes on
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"


@pytest.mark.parametrize("word", ["STOP", "PARAR"])
async def test_an_opt_out_at_the_confirmation_keeps_the_chosen_zone_over_sms(
    bot: Bot, admin_conn: asyncpg.Connection, word: str
) -> None:
    await bot.sms(NUMBER, "START")
    await bot.sms(NUMBER, "1")  # I agree
    await bot.sms(NUMBER, "Ana")
    await bot.sms(NUMBER, "1")  # English
    await bot.sms(NUMBER, "Madrid")
    replies = await bot.sms(NUMBER, word)
    assert len(replies) == 1  # the opt-out's confirmation alone, as carriers expect
    assert await admin_conn.fetchval("select timezone from patients") == "Europe/Madrid"
