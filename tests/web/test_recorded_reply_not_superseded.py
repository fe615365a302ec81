"""A reply that says what was recorded ("Taken at 8:00 AM: ...") is not superseded unsent.

A newer reply to a chat expires the older ones still waiting to be sent (migration
20260101016950), so a stale question is never read late. But a patient who pressed Taken on one
reminder, whose confirmation the Bot API refused for the moment, then pressed Taken on a second
reminder, had the first confirmation expired unsent: they never heard that dose was recorded,
and only its button, pressed again, said "already recorded". What was recorded stays true: the
confirmation is sent by the worker, within the half hour every reply has (migration
20260101017150). Through the web app's webhook (the one-statement button turn and the general
turn), the worker's dispatcher and the loopback Bot API, on the database's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from core.db import Database
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.chat import Clock, telegram_press, telegram_text, worker
from tests.web.test_answer_router import _reminder

CHAT = 555_150_501
REPLIES = """
select m.status, m.message_content
  from scheduled_messages m join conversations c on c.id = m.conversation_id
 where c.channel = 'telegram' and c.chat_address = $1 and m.message_content like 'Taken%'
 order by m.created_at
"""


def _taken_buttons(fake_telegram: FakeTelegram) -> list[str]:
    """The Taken button of each reminder the chat got, oldest first."""
    return [
        data
        for call in fake_telegram.sent_messages
        if str(call.chat_id) == str(CHAT)
        for row in call.buttons()
        for label, data in row
        if label == "Taken"
    ]


@pytest.mark.parametrize("second", ["press", "typed"])
async def test_a_taken_confirmation_waits_for_its_retry(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
    second: str,
) -> None:
    chat_clock.now = datetime.now(UTC)
    patient = await factories.create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    _, first_schedule = await factories.create_medication(admin_conn, patient["id"])
    _, second_schedule = await factories.create_medication(
        admin_conn, patient["id"], name="Aspirin"
    )
    for schedule in (first_schedule, second_schedule):
        await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 2
    first, latest = _taken_buttons(fake_telegram)

    # The Bot API refuses the first confirmation: its edit, the send instead and its retry.
    fake_telegram.fail_next_server_error(chat_id=CHAT, times=3)
    await telegram_press(web, CHAT, first)
    [waiting] = await admin_conn.fetch(REPLIES, str(CHAT))
    assert waiting["status"] == "pending"
    if second == "press":
        await telegram_press(web, CHAT, latest)
    else:
        await telegram_text(web, CHAT, "taken")  # the newest reminder's, typed
    statuses = [r["status"] for r in await admin_conn.fetch(REPLIES, str(CHAT))]
    assert statuses == ["pending", "sent"], statuses

    chat_clock.now += timedelta(minutes=1)  # past the retry's backoff
    assert await worker(db, senders, chat_clock).run_once() == 1
    statuses = [r["status"] for r in await admin_conn.fetch(REPLIES, str(CHAT))]
    assert statuses == ["sent", "sent"], statuses
