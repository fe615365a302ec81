"""A message longer than the bot reads (bot.engine.MAX_INPUT_CHARS) gets one clear answer.

A 240 KB text pasted into the chat was answered "That message is too long for me. Sorry, I
didn't understand that. Send /help ..." in one reply: two answers that contradict each other,
and neither said how long a message may be. It now says the limit and how to go on; at a
question, the limit and the question's options again. Through the web process's Telegram webhook
and Twilio inbound, as patients send them.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat, telegram_text

CHAT = 555_150_301
NUMBER = "+14155550192"
IDLE = {
    "en": "That message is too long for me: I read up to 1000 characters. Send /help to see"
    " what I can do.",
    "es": "Ese mensaje es demasiado largo para mí: leo hasta 1000 caracteres. Envía /help para"
    " ver lo que puedo hacer.",
}
AT_QUESTION = {
    "en": "That message is too long for me: I read up to 1000 characters.",
    "es": "Ese mensaje es demasiado largo para mí: leo hasta 1000 caracteres.",
}


@pytest.mark.parametrize("locale", ["en", "es"])
async def test_a_240_kb_telegram_text_gets_one_clear_answer(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    org: asyncpg.Record,
    locale: str,
) -> None:
    await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": str(CHAT)}, locale=locale
    )

    async def say(text: str) -> list[str]:
        before = len(fake_telegram.sent_messages)
        await telegram_text(web, CHAT, text)
        return [c.text or "" for c in fake_telegram.sent_messages[before:]]

    assert await say("x" * 240_000) == [IDLE[locale]]
    # At a question: the limit, and the question's options again.
    await say("/add")
    await say("Amoxicillin")
    said = await say("y" * 5000)
    assert said == [AT_QUESTION[locale]]


async def test_over_sms_at_a_question(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER}, locale="en")
    say = sms_chat(web, fake_twilio, NUMBER)
    assert await say("z" * 1500) == IDLE["en"]
    await say("/settings")
    said = await say("z" * 1500)
    assert said.startswith(AT_QUESTION["en"] + "\n")
    assert "1 Time zone" in said  # the menu's options again
