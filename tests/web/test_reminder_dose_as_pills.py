"""A reminder shows a dose typed as a number alone as the bot does: that many pills.

/add reads a dose typed "1" as one pill and its summary and /meds say "1 pastilla"; the
reminders said it raw ("Es la hora de tu dosis de las 12:00: Metformina, 1"), which reads as
the medicine's number. Driven as a patient chats: the dose typed through the web process (signed
Twilio webhooks, the Telegram webhook), the reminder sent by the worker's dispatcher to the
loopback Twilio and Telegram. One injected clock; the patients live in UTC with quiet hours set
explicitly (02:00-03:00), so noon is outside them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from core.db import Database
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, option_number, plain, sms_chat, telegram_text, worker

NUMBER = "+34600111556"
CHAT = 455001122
PATIENT: dict[str, Any] = {
    "quiet_start": time(2, 0),
    "quiet_end": time(3, 0),
    "name_medicine_in_reminders": True,
}
WORDS = {
    "es": ("listo", "Todos los dias", "Hoy", "Sin fecha de fin", "Guardar"),
    "en": ("done", "Every day", "Today", "No end date", "Save"),
}


async def _add(say: Callable[[str], Awaitable[str]], locale: str, name: str, dose: str) -> str:
    """/add ``name`` with ``dose`` at noon every day from today (20 pills when asked), saved:
    the last reply."""
    done, every_day, today, no_end, save = WORDS[locale]
    await say(f"/add {name}")
    await say(dose)
    await say("12")
    days = await say(done)
    start = await say(option_number(days, every_day))
    end = await say(option_number(start, today))
    summary = await say(option_number(end, no_end))
    if summary.startswith(("¿Cuantas pastillas", "How many pills")):
        summary = await say("20")
    return await say(option_number(summary.rpartition("\n\n")[2], save))


@pytest.mark.parametrize(
    ("locale", "name", "dose", "shown"),
    [
        ("es", "Metformina", "1", "Metformina, 1 pastilla."),
        ("es", "Metformina", "1,5", "Metformina, 1,5 pastillas."),
        ("en", "Metformin", "2", "Metformin, 2 pills."),
        ("es", "Jarabe", "10 ml", "Jarabe, 10 ml."),
    ],
)
async def test_an_sms_reminder_says_a_bare_number_dose_as_pills(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    name: str,
    dose: str,
    shown: str,
) -> None:
    await factories.create_patient(
        admin_conn, contacts={"sms": NUMBER}, locale=locale, display_name="Ana", **PATIENT
    )
    say = sms_chat(web, fake_twilio, NUMBER)
    saved = await _add(say, locale, name, dose)
    assert saved.startswith(("Guardado.", "Saved.")), saved

    before = len(fake_twilio.messages)
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1
    (reminder,) = [m.body for m in fake_twilio.messages[before:] if m.to == NUMBER]
    assert shown in plain(reminder).splitlines()[0], reminder


async def test_a_telegram_reminder_says_a_bare_number_dose_as_pills(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    """The same on Telegram (its HTML text), the dose typed in the chat and the options
    answered by their words."""
    await factories.create_patient(
        admin_conn, contacts={"telegram": str(CHAT)}, locale="es", display_name="Ana", **PATIENT
    )

    async def say(text: str) -> str:
        before = len(fake_telegram.sent_messages)
        await telegram_text(web, CHAT, text)
        return "\n".join(plain(m.text) for m in fake_telegram.sent_messages[before:])

    for text in ("/add Metformina", "1", "12", "Listo", "Todos los dias", "Hoy"):
        await say(text)
    summary = await say("Sin fecha de fin")
    summary = await say("20") if "pastillas" in summary else summary
    assert summary.startswith("Metformina (1 pastilla)"), summary
    assert (await say("Guardar")).startswith("Guardado."), summary

    before = len(fake_telegram.sent_messages)
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1
    (reminder,) = fake_telegram.sent_messages[before:]
    assert "<b>Metformina</b>, 1 pastilla." in (reminder.text or ""), reminder.text
