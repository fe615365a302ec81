"""A caregiver whose first text agrees to a patient's alerts is told so, not to register.

A patient named Maria their caregiver by SMS and was told "Alerts to Maria start once their phone
has sent us a message". Maria texted "hi" and got "Hi! Send /start to set up your reminders.":
nothing said her message had counted, or whose alerts she would get, or how to stop them (found
by hand over SMS in medremind dev with the loopback Twilio). Now that first message is answered
with what it did, in the patient's language (or the greeting's); a later one from her is
answered as before. Over the loopback Bot API and Twilio SMS.
"""

from __future__ import annotations

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.test_telegram_flow import onboard

CAREGIVER = "+14155550167"


async def _named_caregiver(bot: Bot, chat: int) -> None:
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, "Maria")
    await bot.press(chat, "SMS")
    await bot.send(chat, "+1 415 555 0167")
    await bot.press(chat, "Same as mine")
    await bot.press(chat, "30")


def texts_to(bot: Bot, number: str) -> list[str]:
    return [m.body or "" for m in bot.sms_to(number)]


async def test_the_caregivers_first_text_is_answered_with_what_it_did(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await onboard(bot, chat, name="Ana")
    await _named_caregiver(bot, chat)
    await bot.sms(CAREGIVER, "hi")
    [told] = texts_to(bot, CAREGIVER)
    assert told == (
        "Thank you, Maria. You are now Ana's caregiver: I will message you here when they miss"
        " a dose. To stop these alerts, reply STOP."
    ), told
    assert await admin_conn.fetchval("select proven_at is not null from caregivers")
    # Once agreed, another text is answered as any stranger's.
    await bot.sms(CAREGIVER, "ok")
    assert texts_to(bot, CAREGIVER)[1] == "Hi! Send /start to set up your reminders."


async def test_in_spanish_when_she_greets_in_spanish(bot: Bot) -> None:
    chat = bot.new_chat()
    await onboard(bot, chat, name="Ana")
    await _named_caregiver(bot, chat)
    await bot.sms(CAREGIVER, "Hola")
    [told] = texts_to(bot, CAREGIVER)
    assert told.startswith("Gracias, Maria. Ahora eres cuidador de Ana: te escribiré aquí"), told
