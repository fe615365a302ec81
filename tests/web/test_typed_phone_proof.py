"""A number typed by someone who wrote to the bot is not texted until it has written to us.

Anyone can start the service's Telegram bot and register (no clinic vouches for them). The
onboarding's phone step took any typed number and the patient could put SMS first: every
reminder they add (12 times a day per medicine, and no limit on medicines) and every nag then
went by SMS to that number, a stranger's or a premium-rate one, at the service's cost (SMS
pumping), and without the number's owner ever agreeing. Now such a number is kept inactive
until a text from it reaches the service (which also binds it, as for any known number); a
number shared with Telegram's contact button, or entered by a clinic, is used at once.

Over the web app (``/telegram/webhook`` with its secret, signed ``/twilio/inbound``) and the
worker's dispatcher on the loopback Telegram and Twilio.
"""

from __future__ import annotations

import asyncpg
import httpx

from core.db import Database
from tests.factories import create_message
from tests.fakes.fake_telegram import FakeTelegram, contact_update
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import (
    TELEGRAM_SECRET,
    Clock,
    telegram_press,
    telegram_text,
    twilio_inbound,
    worker,
)

CHAT = 555400001
NUMBER = "+14155550199"  # someone else's phone, typed by the person registering


def _last_text(telegram: FakeTelegram, chat: int) -> str:
    return [c for c in telegram.sent_messages if str(c.chat_id) == str(chat)][-1].text or ""


async def _press(web: httpx.AsyncClient, telegram: FakeTelegram, label: str) -> None:
    """Press the newest button labelled ``label`` sent to the chat."""
    for call in reversed([c for c in telegram.sent_messages if str(c.chat_id) == str(CHAT)]):
        for row in call.buttons():
            for text, data in row:
                if text == label:
                    await telegram_press(web, CHAT, data)
                    return
    raise AssertionError(f"no button {label!r}")


async def _up_to_the_phone_step(web: httpx.AsyncClient, telegram: FakeTelegram) -> None:
    """Self-registration on Telegram from /start to the phone question."""
    await telegram_text(web, CHAT, "/start")
    await _press(web, telegram, "I agree")
    await telegram_text(web, CHAT, "Mallory")
    await _press(web, telegram, "English")
    await telegram_text(web, CHAT, "UTC")
    await _press(web, telegram, "Yes")
    assert "phone" in _last_text(telegram, CHAT)


async def _register_typing_a_number(web: httpx.AsyncClient, telegram: FakeTelegram) -> str:
    """Self-registration on Telegram, typing NUMBER and putting SMS first where asked."""
    await _up_to_the_phone_step(web, telegram)
    before = len(telegram.sent_messages)
    await telegram_text(web, CHAT, NUMBER)
    said = "\n".join(c.text or "" for c in telegram.sent_messages[before:])
    labels = [t for c in telegram.sent_messages[before:] for row in c.buttons() for t, _ in row]
    sms_first = next((label for label in labels if label.startswith("SMS first")), None)
    if sms_first is not None:  # the channel question, when SMS is usable
        await _press(web, telegram, sms_first)
    assert "All set" in _last_text(telegram, CHAT)
    return said


async def test_a_typed_number_gets_no_text_until_it_has_written_to_us(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> None:
    said = await _register_typing_a_number(web, fake_telegram)
    patient = await admin_conn.fetchval("select id from patients")
    dispatcher = worker(db, senders, chat_clock)

    # A message for the patient goes to their Telegram chat, never to the typed number, and
    # neither when Telegram refuses (the bot blocked): nothing falls back to it.
    await create_message(admin_conn, patient, urgent=True, scheduled_time=chat_clock.now)
    assert await dispatcher.run_once() == 1
    fake_telegram.fail_next_blocked()
    await create_message(admin_conn, patient, urgent=True, scheduled_time=chat_clock.now)
    await dispatcher.run_once()
    assert [m for m in fake_twilio.messages if m.to == NUMBER] == []
    # Told how to prove the number theirs: a text from it to the service's number.
    assert "send any text message from it to +15005550006" in said

    # The number's owner texts the service: now it is the patient's proven number.
    await twilio_inbound(web, NUMBER, "hello")
    contact = await admin_conn.fetchrow(
        "select active, verified from contact_points where channel = 'sms' and address = $1",
        NUMBER,
    )
    assert (contact["active"], contact["verified"]) == (True, True)
    # SMS first, as the patient may now choose in /settings (it offers usable channels only).
    await admin_conn.execute("update patients set channel_order = '{sms,telegram}'")
    await create_message(admin_conn, patient, urgent=True, scheduled_time=chat_clock.now)
    await dispatcher.run_once()
    assert "Please remember your appointment" in [
        m.body for m in fake_twilio.messages if m.to == NUMBER
    ]


async def test_a_number_shared_with_telegrams_contact_button_is_used_at_once(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    """Telegram's contact share is the account's own number: proven, active, no extra step."""
    await _up_to_the_phone_step(web, fake_telegram)
    answer = await web.post(
        "/telegram/webhook", json=contact_update(CHAT, NUMBER), headers=TELEGRAM_SECRET
    )
    assert answer.status_code == 200
    contact = await admin_conn.fetchrow(
        "select active, verified from contact_points where channel = 'sms' and address = $1",
        NUMBER,
    )
    assert (contact["active"], contact["verified"]) == (True, True)
    assert "Where should reminders go first?" in _last_text(fake_telegram, CHAT)
