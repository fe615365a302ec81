"""The time zone question asks for a shared location only where one can be shared.

Over SMS it said "Share your location, pick a city, or type ..." (in Spanish "Comparte tu
ubicación"), which a text message cannot do (found by hand registering over SMS in
`medremind dev` with the loopback Twilio). SMS names the cities and typing; Telegram and
WhatsApp keep the location. Driven over the loopback Twilio SMS fake and Bot API.
"""

from __future__ import annotations

import pytest

from tests.bot.conftest import Bot
from tests.bot.helpers import whatsapp_chat

NUMBER = "+15005550188"


def body(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


async def at_the_zone_question(bot: Bot, name: str) -> int:
    """A new Telegram chat registering in English, at the time zone question."""
    chat = bot.new_chat()
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, name)
    await bot.press(chat, "English")
    return chat


@pytest.mark.parametrize(("language", "location"), [("1", "location"), ("2", "ubicación")])
async def test_sms_is_not_asked_to_share_a_location(bot: Bot, language: str, location: str) -> None:
    await bot.sms(NUMBER, "/start")
    await bot.sms(NUMBER, "1")  # I agree
    await bot.sms(NUMBER, "Ana")
    asked = body(await bot.sms(NUMBER, language))
    assert "Madrid o America/Chicago" in asked or "Madrid or America/Chicago" in asked, asked
    assert location not in asked.lower(), asked


async def test_telegram_and_whatsapp_are_asked_to_share_a_location(bot: Bot) -> None:
    chat = await at_the_zone_question(bot, "Ana")
    assert "Share your location" in bot.last_text(chat)
    async with whatsapp_chat(bot, NUMBER) as wa:
        await wa("/start")
        await wa("1")
        await wa("Ana")
        assert "Share your location" in await wa("1")


async def test_a_misspelt_place_is_offered_as_the_closest_one(bot: Bot, admin_conn) -> None:
    """ "Nueva Yrok" over SMS in Spanish and "madird" on Telegram in English were "I don't know
    that place" with no hint (bot.parsing.near_timezone): the closest city the bot knows is
    offered, a numbered reply or a button takes it, "another place" asks again. A second typo
    typed at "Did you mean ...?" is guessed again (it was "Please pick one of the options"), and
    yes or no said in words is read as such, never guessed as a place ("nope" was Nome, "vale"
    Madrid). A "hi" or "gracias" at a question is answered, and the question asked again (the
    menu said "Please pick one of the options"; the name question took "hi" as the name)."""
    await bot.sms(NUMBER, "/start")
    await bot.sms(NUMBER, "1")  # I agree
    hello = body(await bot.sms(NUMBER, "hi"))
    assert hello.startswith("Hello!\n\nWhat should I call you?"), hello
    await bot.sms(NUMBER, "Eva")
    hello = body(await bot.sms(NUMBER, "Hola"))  # at the language menu
    assert hello.startswith("Hello, Eva!\n\nWhich language do you prefer?"), hello
    await bot.sms(NUMBER, "2")  # Español
    offered = body(await bot.sms(NUMBER, "Nueva Yrok"))
    assert offered.startswith("No conozco ese lugar. ¿Quieres decir Nueva York?"), offered
    assert "1" in offered and "No, otro lugar" in offered, offered
    thanked = body(await bot.sms(NUMBER, "gracias"))
    assert thanked.startswith("¡De nada!\n\nNo conozco ese lugar. ¿Quieres decir Nueva York?")
    offered = body(await bot.sms(NUMBER, "bogta"))
    assert offered.startswith("No conozco ese lugar. ¿Quieres decir Bogota?"), offered
    assert body(await bot.sms(NUMBER, "1")).startswith("¡Listo, Eva!")  # SMS: no phone step
    zone = "select timezone from patients where display_name = $1"
    assert await admin_conn.fetchval(zone, "Eva") == "America/Bogota"

    chat = await at_the_zone_question(bot, "Ana")
    await bot.send(chat, "madird")
    assert bot.last_text(chat).startswith("I don't know that place. Did you mean Madrid?")
    await bot.send(chat, "nope")
    assert "Share your location" in bot.last_text(chat)
    await bot.send(chat, "qwertz")  # nothing close: no guess
    assert bot.last_text(chat).startswith("I don't know that place. Type a bigger city")
    await bot.send(chat, "madird")
    await bot.press(chat, "No, another place")
    assert "Share your location" in bot.last_text(chat)
    await bot.send(chat, "madird")
    await bot.send(chat, "berln")
    assert bot.last_text(chat).startswith("I don't know that place. Did you mean Berlin?")
    await bot.send(chat, "Yeah!")
    assert await admin_conn.fetchval(zone, "Ana") == "Europe/Berlin"
