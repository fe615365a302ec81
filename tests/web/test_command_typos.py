"""A mistyped command is answered with the command it was close to.

"/ad", "/med", "/setings" were "I don't know that command. Send /help to see what I can do.":
the patient had to read the whole list to find the one letter they missed (found by hand in
medremind dev's console). Now the reply names the nearest command ("Did you mean /add?"); a
word close to none is told as before. Over SMS and Telegram through the web process.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import sms_chat, telegram_text

NUMBER = "+14155550171"
CHAT = 7_400_171


@pytest.mark.parametrize(
    ("locale", "typed", "said"),
    [
        ("en", "/ad", "I don't know that command. Did you mean /add? Send /help to see"),
        ("en", "/med", "I don't know that command. Did you mean /meds? Send /help to see"),
        ("en", "/setings", "I don't know that command. Did you mean /settings? Send /help"),
        ("es", "/ayda", "No conozco ese comando. ¿Querias decir /ayuda? Envia /help"),
        ("es", "/pausae", "No conozco ese comando. ¿Querias decir /pause? Envia /help"),
        ("en", "/xyzzy", "I don't know that command. Send /help to see what I can do."),
    ],
)
async def test_a_mistyped_command_names_the_nearest_over_sms(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    typed: str,
    said: str,
) -> None:
    await factories.create_patient(admin_conn, contacts={"sms": NUMBER}, locale=locale)
    told = await sms_chat(web, fake_twilio, NUMBER)(typed)
    assert told.startswith(said), told


async def test_over_telegram_too(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, fake_telegram: FakeTelegram
) -> None:
    await factories.create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    await telegram_text(web, CHAT, "/todya")
    texts = [m.text or "" for m in fake_telegram.sent_messages if str(m.chat_id) == str(CHAT)]
    assert texts and "Did you mean /today?" in texts[-1], texts
