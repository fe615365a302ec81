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


@pytest.mark.parametrize(("language", "location"), [("1", "location"), ("2", "ubicación")])
async def test_sms_is_not_asked_to_share_a_location(bot: Bot, language: str, location: str) -> None:
    await bot.sms(NUMBER, "/start")
    await bot.sms(NUMBER, "1")  # I agree
    await bot.sms(NUMBER, "Ana")
    asked = body(await bot.sms(NUMBER, language))
    assert "Madrid o America/Chicago" in asked or "Madrid or America/Chicago" in asked, asked
    assert location not in asked.lower(), asked


async def test_telegram_and_whatsapp_are_asked_to_share_a_location(bot: Bot) -> None:
    chat = bot.new_chat()
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Ana")
    await bot.press(chat, "English")
    assert "Share your location" in bot.last_text(chat)
    async with whatsapp_chat(bot, NUMBER) as wa:
        await wa("/start")
        await wa("1")
        await wa("Ana")
        assert "Share your location" in await wa("1")
