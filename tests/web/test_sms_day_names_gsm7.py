"""A Spanish SMS naming a Saturday stays GSM-7: one segment, as every other day's.

CLDR's Spanish "sáb" has "á", which GSM-7 lacks: it made an otherwise GSM-7 reminder or reply
UCS-2 (two segments instead of one). On SMS the day is written "sab" (core.template_filters.
fmt_day); Telegram, WhatsApp and e-mail keep "sáb" (tests/unit/test_sms_day_names.py).

Driven as the product runs, with one injected clock: the worker's dispatcher sends through the
real SMS adapter to the loopback Twilio, and the patient's typed answers come through the web
app's signed /twilio/inbound.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import httpx

from core.db import Database
from core.message_limits import count_segments
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import Clock, twilio_inbound, worker
from tests.web.test_answer_router import _reminder

NUMBER = "+14155550196"
# Saturday, March 7 2026, 23:50 (the patient lives in UTC).
SATURDAY = datetime(2026, 3, 7, 23, 50, tzinfo=UTC)
NO_QUIET: dict[str, Any] = {"quiet_start": time(0, 0), "quiet_end": time(0, 0)}


def _to_patient(twilio: FakeTwilio, since: int) -> list[str]:
    return [m.body or "" for m in twilio.messages[since:] if m.to == NUMBER]


async def test_a_saturday_dose_named_after_midnight_is_one_gsm7_segment(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    """Luis snoozes Saturday's 23:50 dose at 23:55; it comes back at 00:10 on Sunday naming
    Saturday, and his Taken names it too: each SMS is GSM-7, one segment."""
    patient = await factories.create_patient(
        admin_conn, contacts={"sms": NUMBER}, locale="es", display_name="Luis", **NO_QUIET
    )
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    chat_clock.now = SATURDAY
    await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    chat_clock.now = SATURDAY + timedelta(minutes=5)
    await twilio_inbound(web, NUMBER, "2")
    sent = len(fake_twilio.messages)
    chat_clock.now = SATURDAY + timedelta(minutes=20)
    assert await worker(db, senders, chat_clock).run_once() == 1
    chat_clock.now = SATURDAY + timedelta(minutes=22)
    await twilio_inbound(web, NUMBER, "1")

    texts = _to_patient(fake_twilio, sent)
    assert texts == [
        "Hola, Luis. Es la hora de tu dosis de las 23:50 del sab, 7 de marzo.\n\n1 Tomada"
        "\n2 Recordar en 15 min\n3 Omitir",
        "Tomada a las 0:12: tu dosis de las 23:50 del sab, 7 de marzo. ¡Bien hecho!",
    ]
    assert [count_segments(t) for t in texts] == [("GSM-7", 1)] * 2
