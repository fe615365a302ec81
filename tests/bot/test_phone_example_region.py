"""The optional phone question's example number follows the patient's region (the time zone
just chosen), not their language: a Spanish speaker in Chicago was shown "+34 600 123 456" and
an English speaker in Mexico City "+1 202 555 0143". A number typed as it is dialled there,
"(202) 555-0143" in the US, is read in that region (it was read as an international number
without its "+", here +20, and refused). Driven over the loopback Telegram as a new patient
registers."""

from __future__ import annotations

import asyncpg
import pytest

from tests.bot.conftest import Bot


async def _to_phone_question(bot: Bot, chat: int, language: str, city: str) -> str:
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Ana")
    await bot.press(chat, language)
    await bot.send(chat, city)
    await bot.press(chat, "Yes" if language == "English" else "Sí")
    return bot.last_text(chat)


@pytest.mark.parametrize(
    ("language", "city", "example"),
    [
        ("Español", "Chicago", "Envíalo como +1 202 555 0143, u omite este paso."),
        ("English", "Mexico City", "Send it like +52 222 123 4567, or skip."),
        ("Español", "Madrid", "Envíalo como +34 600 123 456, u omite este paso."),
        ("English", "UTC", "Send it like +1 202 555 0143, or skip."),
    ],
)
async def test_the_example_is_the_regions(bot: Bot, language: str, city: str, example: str) -> None:
    chat = bot.new_chat()
    assert (await _to_phone_question(bot, chat, language, city)).endswith(example)


async def test_a_number_dialled_as_at_home_is_read_in_the_region(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await _to_phone_question(bot, chat, "Español", "Chicago")
    await bot.send(chat, "(202) 555-0143")
    number = await admin_conn.fetchval("select address from contact_points where channel = 'sms'")
    assert number == "+12025550143"


async def test_a_wrong_number_is_asked_again_with_the_regions_example(bot: Bot) -> None:
    chat = bot.new_chat()
    await _to_phone_question(bot, chat, "Español", "Chicago")
    await bot.send(chat, "12")
    assert bot.last_text(chat) == (
        "Eso no parece un número de teléfono. Envíalo como +1 202 555 0143, u omítelo."
    )
