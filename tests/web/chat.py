"""A patient's chat over the web process, with the worker's dispatcher sending the reminders.

One injected clock drives the web app (``/telegram/webhook``, signed ``/twilio/inbound``, the API)
and the dispatcher, which sends through the real adapters to the loopback Telegram and Twilio.
The fixtures ``chat_clock`` and ``web`` are in ``tests/web/conftest.py``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx

from core.db import Database
from core.templating import TemplateRenderer
from scheduler.claims import Claim
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests.fakes.fake_telegram import callback_update, text_update
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import START, WEBHOOK_SECRET, Clock, twilio_signature

__all__ = [
    "START",
    "Clock",
    "add_medicine",
    "option_number",
    "plain",
    "sms_chat",
    "telegram_press",
    "telegram_text",
    "through_menus",
    "twilio_inbound",
    "worker",
]
TELEGRAM_SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


def worker(db: Database, senders: dict, clock: Clock, *, in_order: bool = False) -> Dispatcher:
    """The worker's dispatcher over the same senders (the real adapters on the fakes).

    ``in_order``: a pass sends its messages one after the other, in an order of what they are
    (:class:`_InOrder`), the same on every run: the order they reach the fakes, and so the
    order their questions take (the newest of two asked at one instant is the one sent last)."""
    assert db.pool is not None
    config = DispatcherConfig(worker_id="test-worker", platform_rates={}, recipient_rates={})
    if in_order:
        config = dataclasses.replace(config, concurrency=1)
        return _InOrder(db.pool, senders, TemplateRenderer(), clock, config)
    return Dispatcher(db.pool, senders, TemplateRenderer(), clock, config)


class _InOrder(Dispatcher):
    """A dispatcher that sends each claimed batch in an order of what its messages are.

    A claim hands its batch over by priority and due time; messages due at one instant (two
    appointments' confirmations held to the end of one quiet window) come in an order its plan
    picks, which differs from one run to the next (the rows' random ids). A test that replays
    a sequence (hypothesis) must see the same sends in the same order each time."""

    async def _claim(self, limit: int, ahead: float = 0.0) -> list[Claim]:
        return sorted(await super()._claim(limit, ahead), key=_what_it_is)


def _what_it_is(claim: Claim) -> tuple[object, ...]:
    """A claimed message by its content, never its id: its priority and due time, kind,
    recipient, dose, medicine and appointment, then its text."""
    never = datetime.min.replace(tzinfo=UTC)
    return (
        claim.priority,
        claim.scheduled_time,
        claim.kind,
        claim.caregiver_id is not None,
        claim.platform,
        claim.dose_due_at or never,
        claim.medicine_name or "",
        claim.appointment_starts_at or never,
        claim.message_content or "",
    )


async def twilio_inbound(web: httpx.AsyncClient, sender: str, body: str, **extra: str) -> None:
    """An SMS (or, ``whatsapp:``-prefixed, a WhatsApp message) as Twilio posts it, signed."""
    form = inbound_form(sender, body, **extra)  # type: ignore[arg-type]
    headers = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
    response = await web.post("/twilio/inbound", data=form, headers=headers)
    assert response.status_code == 200, response.text


def plain(text: str | None) -> str:
    """A text as the patient reads it: CLDR's narrow space before AM/PM a space, Telegram's
    ``<b>`` marks gone."""
    return re.sub(r"</?b>", "", (text or "").replace("\u202f", " "))


def option_number(text: str, label: str) -> str:
    """The number a numbered menu (SMS, the console) gives the option ``label``."""
    found = re.search(rf"(\d+)\W+{re.escape(label)}", text)
    assert found, text
    return found.group(1)


async def through_menus(say: Callable[[str], Awaitable[str]], text: str, *labels: str) -> str:
    """``say(text)``, then the option of each of ``labels`` by its number in the reply before
    it ("/settings", "Home or follow", "Follow me"); the last reply."""
    reply = await say(text)
    for label in labels:
        reply = await say(option_number(reply, label))
    return reply


def sms_chat(
    web: httpx.AsyncClient, twilio: FakeTwilio, number: str
) -> Callable[[str], Awaitable[str]]:
    """``say(text)``: the patient at ``number`` texts the web process; returns what Twilio was
    asked to send back to that number meanwhile, each message :func:`plain`, one per line."""

    async def say(text: str) -> str:
        before = len(twilio.messages)
        await twilio_inbound(web, number, text)
        return "\n".join(plain(m.body) for m in twilio.messages[before:] if m.to == number)

    return say


async def telegram_text(web: httpx.AsyncClient, chat: int, text: str) -> None:
    """A Telegram text through the webhook, with the secret."""
    response = await web.post(
        "/telegram/webhook", json=text_update(chat, text), headers=TELEGRAM_SECRET
    )
    assert response.status_code == 200


async def telegram_press(web: httpx.AsyncClient, chat: int, data: str) -> None:
    """A Telegram button press through the webhook, with the secret."""
    response = await web.post(
        "/telegram/webhook", json=callback_update(chat, data), headers=TELEGRAM_SECRET
    )
    assert response.status_code == 200


# The words a numbered /add dialog is answered with, per language (SMS's GSM-7 letters).
_ADD_WORDS = {
    "es": ("listo", "Todos los dias", "Hoy", "Sin fecha de fin", "Guardar"),
    "en": ("done", "Every day", "Today", "No end date", "Save"),
}


async def add_medicine(
    say: Callable[[str], Awaitable[str]], locale: str, times: str, *, dose: str = "400 mg"
) -> tuple[str, str]:
    """/add Ibuprofeno with ``dose`` at ``times`` (as typed), every day from today, no end, 20
    pills, saved, over a numbered chat (SMS, WhatsApp) in ``locale``: the reply to the times
    typed and the reply to Save."""
    done, every_day, today, no_end, save = _ADD_WORDS[locale]
    await say("/add Ibuprofeno")
    await say(dose)
    so_far = await say(times)
    reply = await say(done)
    for label in (every_day, today, no_end):
        reply = await say(option_number(reply, label))
    summary = await say("20")  # the pills in hand
    return so_far, await say(option_number(summary.rpartition("\n\n")[2], save))
