"""A typed answer Telegram delivers late answers the reminder it was written for.

Telegram keeps a bot's updates for a day while the webhook fails and then delivers them. Before:
a patient's "taken", typed five minutes after the evening's reminder during an outage of ours
and delivered twelve hours later, was routed to the morning's reminder open by then: the
morning's dose was recorded taken (it was not; its reminder stopped) and the evening's stayed
open. Now the message's own time (Telegram's ``date``, how long before its receipt) decides
which questions it can answer (medremind/web/telegram_late.py, bot/routing.py). Through the web
app's webhook, the worker's dispatcher and the loopback Bot API.
"""

from __future__ import annotations

import time
from datetime import timedelta

import asyncpg
import httpx

from core.db import Database
from core.settings import Settings
from medremind.web import create_app, inbound
from platforms.telegram import parse_update
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram, text_update
from tests.web.chat import TELEGRAM_SECRET, Clock, worker
from tests.web.test_answer_router import _reminder

CHAT = 555000998
STATUS = "select status from dose_events where id = $1"


async def _two_reminders(
    db: Database, senders: dict, clock: Clock, conn: asyncpg.Connection
) -> tuple[object, object]:
    """The evening's reminder, sent; then, 12 h 10 min later, the morning's, sent."""
    patient = await factories.create_patient(conn, contacts={"telegram": str(CHAT)})
    _, schedule = await factories.create_medication(conn, patient["id"])
    evening = await _reminder(conn, patient["id"], schedule, clock)
    assert await worker(db, senders, clock).run_once() == 1
    clock.now += timedelta(hours=12, minutes=10)
    morning = await _reminder(conn, patient["id"], schedule, clock)
    assert await worker(db, senders, clock).run_once() == 1
    return evening, morning


def _written(text: str, seconds_ago: float) -> dict:
    """A text message Telegram took ``seconds_ago`` before now (its ``date``)."""
    update = text_update(CHAT, text)
    update["message"]["date"] = int(time.time() - seconds_ago)
    return update


async def test_taken_typed_in_the_evening_and_delivered_in_the_morning(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    evening, morning = await _two_reminders(db, senders, chat_clock, admin_conn)
    chat_clock.now += timedelta(minutes=20)
    # Written 5 minutes after the evening's reminder: 12 h 25 min before it arrives.
    late = _written("taken", timedelta(hours=12, minutes=25).total_seconds())
    response = await web.post("/telegram/webhook", json=late, headers=TELEGRAM_SECRET)
    assert response.status_code == 200
    assert await admin_conn.fetchval(STATUS, morning) == "due"
    assert await admin_conn.fetchval(STATUS, evening) == "taken"


async def test_a_message_on_time_answers_the_newest_reminder(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
) -> None:
    evening, morning = await _two_reminders(db, senders, chat_clock, admin_conn)
    chat_clock.now += timedelta(minutes=20)
    # A minute in Telegram's hands is no delay (a slow network, a clock apart).
    on_time = _written("taken", 60)
    response = await web.post("/telegram/webhook", json=on_time, headers=TELEGRAM_SECRET)
    assert response.status_code == 200
    assert await admin_conn.fetchval(STATUS, morning) == "taken"
    assert await admin_conn.fetchval(STATUS, evening) == "due"


async def test_a_late_taken_is_recorded_at_the_time_it_was_written(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    """Recorded at its processing time, the evening's dose read "taken at 8:30 AM" the next
    morning (the dashboard, adherence, the reply "Taken at ..."), a time the patient never
    said: the answer carries when it was written (Telegram's ``date``)."""
    evening, _ = await _two_reminders(db, senders, chat_clock, admin_conn)
    chat_clock.now += timedelta(minutes=20)
    # Half a minute off the minute: Telegram's whole-second date cannot move it to another.
    delay = timedelta(hours=12, minutes=25, seconds=30)
    late = _written("taken", delay.total_seconds())
    before = len(fake_telegram.sent_messages)
    response = await web.post("/telegram/webhook", json=late, headers=TELEGRAM_SECRET)
    assert response.status_code == 200
    answered = await admin_conn.fetchval(
        "select answered_at from dose_events where id = $1", evening
    )
    # Telegram's date is whole seconds: the time written, to within the second it was taken.
    assert abs((chat_clock.now - delay) - answered) < timedelta(seconds=2), answered
    written = (chat_clock.now - delay).strftime("%-I:%M")
    said = [c.text or "" for c in fake_telegram.sent_messages[before:]]
    assert len(said) == 1 and said[0].startswith(f"Taken at {written}"), said


async def test_taken_left_by_a_crash_is_recorded_when_it_arrived(
    web_settings: Settings,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    """A "taken" sent on time five minutes after the evening's reminder, stored and
    acknowledged by a web process that died before its turn ran; the next process starts the
    next morning, after the morning's reminder went out, and resumes it. Before, the turn ran
    as if written then: the morning's dose was recorded taken at the restart's time (its reply
    "Taken at" the restart's time) and the evening's stayed open. It is read as written when it
    arrived (bot/intake.py ``as_written``)."""
    patient = await factories.create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    evening = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    chat_clock.now += timedelta(minutes=5)
    arrived = chat_clock.now
    update = text_update(CHAT, "taken")
    event = parse_update(update)
    assert event is not None
    # What the webhook does before its 200; the process dies before the returned task runs.
    crashed = create_app(web_settings, database=db, senders=senders, clock=chat_clock)
    assert await inbound.accept(crashed.state.web, event, update) is not None
    chat_clock.now += timedelta(hours=12, minutes=5)
    morning = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    chat_clock.now += timedelta(minutes=10)
    before = len(fake_telegram.sent_messages)

    restarted = create_app(web_settings, database=db, senders=senders, clock=chat_clock)
    async with restarted.router.lifespan_context(restarted):
        # Its start-up resumes what was left: wait for the turn and its reply.
        await fake_telegram.wait_for_calls(before + 1, method="sendMessage", timeout=30)
    assert await admin_conn.fetchval(STATUS, morning) == "due"
    assert await admin_conn.fetchval(STATUS, evening) == "taken"
    answered = await admin_conn.fetchval(
        "select answered_at from dose_events where id = $1", evening
    )
    assert answered == arrived
    said = [c.text or "" for c in fake_telegram.sent_messages[before:]]
    assert len(said) == 1 and said[0].startswith(f"Taken at {arrived:%-I:%M}"), said
