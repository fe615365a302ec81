"""A dose answer typed again once the dose is answered is told nothing waits, not "I didn't
understand that".

A patient who answered a reminder with "ya me la tomé" and, unsure it counted, wrote "la tomé"
at 3 a.m. got "Perdona, no lo he entendido. Envía /help para ver lo que puedo hacer.": the
answer was recorded, the reply said the bot had not understood (found by hand over WhatsApp in
medremind dev). A one-word answer ("tomada") already got "Nothing is waiting for an answer"; the
phrases the reminders take ("la tomé", "took it", "remind me later") now do too. Through the web
app's /twilio/inbound, the dispatcher and the loopback Twilio.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from core.db import Database
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import Clock, twilio_inbound, worker
from tests.web.test_answer_router import _reminder

NUMBER = "+14155550178"
NOTHING = {
    "en": "Nothing is waiting for an answer right now. Send /help to see what I can do.",
    "es": "Ahora mismo no hay nada esperando respuesta. Envia /help para ver lo que puedo hacer.",
}


@pytest.mark.parametrize(
    ("locale", "first", "again"),
    [
        ("es", "ya me la tomé", "la tomé"),
        ("en", "took it", "I took it"),
        ("en", "1", "remind me later"),
    ],
)
async def test_an_answer_phrase_after_the_dose_was_answered(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
    locale: str,
    first: str,
    again: str,
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": NUMBER}, locale=locale
    )
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    await twilio_inbound(web, NUMBER, first)
    assert await admin_conn.fetchval("select status from dose_events where id = $1", dose) == (
        "taken"
    )
    before = len(fake_twilio.messages)
    await twilio_inbound(web, NUMBER, again)
    assert [m.body for m in fake_twilio.messages[before:]] == [NOTHING[locale]]
