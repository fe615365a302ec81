"""A registered patient who says only "hola", "hello" or "hi" is greeted by name in their own
language and shown what they can do (their channel's /help), in one message. Before, the
greeting read as an answer to nothing: "Nothing is waiting for an answer right now". Driven as
a patient writes: signed Twilio webhooks and Telegram updates into the web process, replies read
from the loopback fakes."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import plain, sms_chat, telegram_text

REFUSALS = ("Nothing is waiting", "no hay nada esperando", "didn't understand", "no lo he")


@pytest.mark.parametrize("hello", ["hola", "¡Hola!", "Buenos días", "hi"])
async def test_a_spanish_patient_over_sms_is_greeted_in_spanish(
    web: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    hello: str,
) -> None:
    number = "+34600111222"
    await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": number}, display_name="María", locale="es"
    )
    reply = await sms_chat(web, fake_twilio, number)(hello)
    # One message: the greeting (GSM-7 letters on SMS, as the help's), then the commands.
    assert reply.startswith("¡Hola, Maria!\nEscribe /today, /meds, /add"), reply
    assert "PARAR" in reply
    assert not any(refusal in reply for refusal in REFUSALS), reply
    assert len([m for m in fake_twilio.messages if m.to == number]) == 1


@pytest.mark.parametrize("hello", ["hello", "Hi!", "hey there"])
async def test_an_english_patient_on_telegram_is_greeted_with_the_commands(
    web: httpx.AsyncClient,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    hello: str,
) -> None:
    chat = 770_100_001
    await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": str(chat)}, display_name="Ana", locale="en"
    )
    await telegram_text(web, chat, hello)
    sent = [plain(c.text) for c in fake_telegram.sent_messages if c.chat_id == chat]
    assert len(sent) == 1, sent
    assert sent[0].startswith("Hello, Ana!\nI remind you to take your medicines.\n/add"), sent
    assert "/stop - no more messages" in sent[0]
    assert not any(refusal in sent[0] for refusal in REFUSALS), sent


@pytest.mark.parametrize(
    ("locale", "thanks", "said"),
    [("en", "Thanks!", "You're welcome!"), ("es", "muchas gracias", "¡De nada!")],
)
async def test_thanks_is_answered_you_are_welcome(
    web: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    locale: str,
    thanks: str,
    said: str,
) -> None:
    """It was "Nothing is waiting for an answer right now" (found in medremind dev's console)."""
    number = "+34600111223"
    await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": number}, display_name="Ana", locale=locale
    )
    assert await sms_chat(web, fake_twilio, number)(thanks) == said
