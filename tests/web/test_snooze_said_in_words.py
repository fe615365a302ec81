"""A reminder snoozed as people say it: "en 20 minutos", "in 20 minutes", "20 min".

The router took "posponer 20" and "snooze 20" but "en 20 minutos" was "Perdona, no lo he
entendido" (found in ``medremind dev``). Driven as a patient texts: the medicine /added over
signed Twilio webhooks into the web process, its 12:00 reminder sent by the worker's dispatcher to
the loopback Twilio, the answer typed back. One injected clock (START, 11:50 UTC; the patient in
UTC, quiet hours set explicitly to 02:00-03:00).
"""

from __future__ import annotations

from datetime import time, timedelta

import asyncpg
import httpx
import pytest

from core.db import Database
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, add_medicine, sms_chat, worker

NUMBER = "+34600111560"


@pytest.mark.parametrize(
    ("locale", "typed", "said"),
    [
        ("es", "en 20 minutos", "otra vez a las 12:20."),
        ("es", "dentro de 45 min", "otra vez a las 12:45."),
        ("es", "20 min", "otra vez a las 12:20."),
        ("en", "in 20 minutes", "again at 12:20 PM"),
        ("en", "30 mins", "again at 12:30 PM"),
    ],
)
async def test_a_snooze_said_in_minutes_is_read(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    locale: str,
    typed: str,
    said: str,
) -> None:
    await factories.create_patient(
        admin_conn,
        contacts={"sms": NUMBER},
        locale=locale,
        display_name="Ana",
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    say = sms_chat(web, fake_twilio, NUMBER)
    await add_medicine(say, locale, "12:00")

    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1  # the 12:00 reminder
    answer = await say(typed)
    assert said in answer, answer
    snoozed = await admin_conn.fetchval(
        "select snoozed_until from dose_events where status = 'snoozed'"
    )
    assert snoozed == START.replace(hour=12, minute=0) + timedelta(minutes=int(typed.split()[-2]))
