"""A forged snooze length is refused with the range, not clamped, and nothing is recorded.

Before: a press whose data named a snooze length no button offers (``d:<dose>:s999``, ``:s0``;
Telegram clients send whatever ``callback_data`` a modified client puts there) was clamped to
12 hours, or to a minute, and recorded as the patient's choice. Now the webhook answers the
press with the range, as an alert, and stores, records and sends nothing. Through the web app's
webhook and the loopback Bot API.
"""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from core.answer_buttons import dose_data
from core.db import Database
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram, callback_update
from tests.web.chat import TELEGRAM_SECRET, Clock, worker
from tests.web.test_answer_router import _reminder

CHAT = 555000981
RANGE = {
    "en": 'A snooze can be 1 to 720 minutes (12 hours). Send, for example, "snooze 90".',
    "es": 'Se puede posponer de 1 a 720 minutos (12 horas). Envía, por ejemplo, "posponer 90".',
}


@pytest.mark.parametrize(("code", "language"), [("s999", "en"), ("s0", "es"), ("s721", "en")])
async def test_a_forged_snooze_length_is_refused_and_records_nothing(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
    code: str,
    language: str,
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    messages = await admin_conn.fetchval("select count(*) from scheduled_messages")
    calls = len(fake_telegram.calls)

    press = callback_update(CHAT, dose_data(dose, code), language_code=language)
    response = await web.post("/telegram/webhook", json=press, headers=TELEGRAM_SECRET)
    assert response.status_code == 200
    assert response.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": press["callback_query"]["id"],
        "text": RANGE[language],
        "show_alert": True,
    }
    assert len(RANGE[language]) <= 200  # what Telegram shows of an alert
    row = await admin_conn.fetchrow(
        "select status, snoozed_until from dose_events where id = $1", dose
    )
    assert (row["status"], row["snoozed_until"]) == ("due", None)
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == messages
    assert len(fake_telegram.calls) == calls


async def test_the_offered_lengths_still_snooze(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
) -> None:
    patient = await factories.create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    press = callback_update(CHAT, dose_data(dose, "s720"))
    response = await web.post("/telegram/webhook", json=press, headers=TELEGRAM_SECRET)
    assert response.json()["method"] == "answerCallbackQuery"
    assert "text" not in response.json()
    status = await admin_conn.fetchval("select status from dose_events where id = $1", dose)
    assert status == "snoozed"
