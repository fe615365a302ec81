"""A reminder's button pressed long after its dose: Snooze is refused, Taken and Skip name the day.

Before: Snooze pressed on a reminder of a dose missed two days ago scheduled a new "Time for your
12:00 PM dose" reminder, which a patient reads as today's dose and may take twice; Taken pressed
the next day answered "Taken at ...: your 12:00 PM dose", without the day. Now a snooze more than
12 hours (core.answer_buttons.QUESTION_TTL) after the dose's time changes nothing and says which
day's dose it was and what to do instead; Taken and Skip still count (late confirmations are
adherence), and their reply names the dose's day when it is not today.

Driven over the web process's webhooks with one injected clock: the Telegram webhook's
callback_query and Twilio's signed WhatsApp quick-reply post (ButtonPayload, ButtonText); the
worker's dispatcher sends the reminder to the loopback Telegram and Twilio. The patients live in
UTC; quiet hours are set explicitly (02:00-03:00).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from core.answer_buttons import dose_data
from core.db import Database
from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio, TwilioCall
from tests.web.chat import START, Clock, plain, telegram_press, twilio_inbound, worker

CHAT = 7_400_170
NUMBER = "+14155550171"
QUIET = {"quiet_start": time(2, 0), "quiet_end": time(3, 0)}
# The chat tests' day: Wednesday, March 4 2026; the dose is due at noon.
DUE = START + timedelta(minutes=10)


@pytest.fixture
def senders(wa_senders: dict) -> dict:
    """The processes' senders: WhatsApp's window read from ``inbound_messages``, so the press
    (an inbound) opens it and the reply goes out as a session message."""
    return wa_senders


def _shown(message: TwilioCall) -> str:
    """What a Twilio message showed: its body, or a quick reply's rendered body."""
    if message.body is not None:
        return plain(message.body)
    return plain(str((message.rendered or {}).get("body") or ""))


async def _reminded(
    conn: asyncpg.Connection,
    db: Database,
    senders: dict,
    clock: Clock,
    contacts: dict[str, str],
    locale: str = "en",
    *,
    due: datetime = DUE,
    **patient: Any,
) -> UUID:
    """A patient with one medicine at noon, reminded at noon: the dose's id. ``due``: another
    time of the dose (in ``patient``'s ``timezone``, UTC by default) the first day."""
    org = await factories.create_organization(
        conn, default_quiet_start=time(2, 0), default_quiet_end=time(3, 0)
    )
    patient = await factories.create_patient(
        conn, org["id"], contacts=contacts, locale=locale, **(QUIET | patient)
    )
    medication, _ = await factories.create_medication(
        conn, patient["id"], times=(due.time(),), pill_count=10
    )
    if "whatsapp" in contacts:
        # Registered over WhatsApp: the chat's conversation belongs to the patient.
        await conn.execute(
            "insert into conversations (channel, chat_address, patient_id)"
            " values ('whatsapp', $1, $2)",
            contacts["whatsapp"],
            patient["id"],
        )
    await replan_patient(conn, patient["id"], START)
    clock.now = due
    assert await worker(db, senders, clock).run_once() == 1
    dose: UUID = await conn.fetchval(
        "select id from dose_events where medication_id = $1 and due_at = $2",
        medication["id"],
        due,
    )
    assert dose is not None
    return dose


async def _dose(conn: asyncpg.Connection, dose: UUID) -> asyncpg.Record:
    return await conn.fetchrow(
        "select d.status, d.snoozed_until, d.answered_at, m.pill_count from dose_events d"
        " join medications m on m.id = d.medication_id where d.id = $1",
        dose,
    )


async def _reminders_after(conn: asyncpg.Connection, dose: UUID, after: object) -> int:
    """Reminders of the dose planned to go out after ``after`` (a snooze plans one)."""
    n: int = await conn.fetchval(
        "select count(*) from scheduled_messages where dose_event_id = $1"
        " and kind = 'medication_reminder' and status = 'pending' and scheduled_time > $2",
        dose,
        after,
    )
    return n


async def _telegram_press(
    web: httpx.AsyncClient, telegram: FakeTelegram, data: str, chat: int = CHAT
) -> list[str]:
    """A button pressed in the Telegram chat: the texts the bot sent or edited there."""
    calls = len(telegram.calls)
    await telegram_press(web, chat, data)
    return [plain(c.text) for c in telegram.calls[calls:] if c.text and c.chat_id == chat]


async def _whatsapp_press(
    web: httpx.AsyncClient, twilio: FakeTwilio, title: str, payload: str
) -> list[str]:
    """A WhatsApp quick reply as Twilio posts it (the button's id and title): what the patient
    was sent back."""
    sent = len(twilio.messages)
    await twilio_inbound(
        web, f"whatsapp:{NUMBER}", title, button_payload=payload, button_text=title
    )
    return [_shown(m) for m in twilio.messages[sent:] if m.to == f"whatsapp:{NUMBER}"]


async def test_telegram_snooze_two_days_late_is_refused_and_nothing_is_scheduled(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    dose = await _reminded(admin_conn, db, senders, chat_clock, {"telegram": str(CHAT)})
    before = await _dose(admin_conn, dose)
    chat_clock.now = DUE + timedelta(days=2, minutes=5)
    calls = len(fake_telegram.calls)
    await telegram_press(web, CHAT, dose_data(dose, "s"))
    said = [c for c in fake_telegram.calls[calls:] if c.text and c.chat_id == CHAT]
    assert [plain(c.text) for c in said] == [
        "It is too late to snooze your 12:00 PM dose on Wed, March 4: no reminder will come"
        " back for it. If you took it, answer Taken."
    ]
    # The refusal offers Taken for that dose: it still counts.
    assert [d for row in said[0].buttons() for _, d in row] == [dose_data(dose, "t")]
    after = await _dose(admin_conn, dose)
    assert after["status"] != "snoozed" and after["snoozed_until"] is None
    assert (after["status"], after["answered_at"]) == (before["status"], before["answered_at"])
    assert await _reminders_after(admin_conn, dose, DUE) == 0
    # No reminder of it comes: the worker sends nothing to the chat in the next hour.
    sent = len(fake_telegram.sent_messages)
    for minutes in (15, 30, 60):
        chat_clock.now = DUE + timedelta(days=2, minutes=5 + minutes)
        await worker(db, senders, chat_clock).run_once()
    assert [m for m in fake_telegram.sent_messages[sent:] if m.chat_id == CHAT] == []

    # Taken pressed on the refusal's button counts, late, and names the day.
    said_text = await _telegram_press(web, fake_telegram, dose_data(dose, "t"))
    assert said_text == ["Taken at 1:05 PM: your 12:00 PM dose on Wed, March 4. Well done!"]
    after = await _dose(admin_conn, dose)
    assert after["status"] == "taken" and after["pill_count"] == 9


async def test_telegram_snooze_ten_minutes_late_still_snoozes(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    dose = await _reminded(admin_conn, db, senders, chat_clock, {"telegram": str(CHAT)})
    chat_clock.now = DUE + timedelta(minutes=10)
    said = await _telegram_press(web, fake_telegram, dose_data(dose, "s"))
    assert said == ["OK, I'll remind you again at 12:25 PM about your 12:00 PM dose."]
    after = await _dose(admin_conn, dose)
    assert (after["status"], after["snoozed_until"]) == (
        "snoozed",
        DUE + timedelta(minutes=25),
    )
    assert await _reminders_after(admin_conn, dose, DUE) == 1


async def test_whatsapp_snooze_two_days_late_is_refused_and_nothing_is_scheduled(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    dose = await _reminded(admin_conn, db, senders, chat_clock, {"whatsapp": NUMBER})
    chat_clock.now = DUE + timedelta(days=2, hours=3)
    replies = await _whatsapp_press(web, fake_twilio, "Snooze 15 min", dose_data(dose, "s"))
    assert replies == [
        "It is too late to snooze your 12:00 PM dose on Wed, March 4: no reminder will come"
        " back for it. If you took it, answer Taken."
    ]
    after = await _dose(admin_conn, dose)
    assert after["status"] != "snoozed" and after["snoozed_until"] is None
    assert after["answered_at"] is None
    assert await _reminders_after(admin_conn, dose, DUE) == 0


async def test_whatsapp_snooze_ten_minutes_late_still_snoozes(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    dose = await _reminded(admin_conn, db, senders, chat_clock, {"whatsapp": NUMBER})
    chat_clock.now = DUE + timedelta(minutes=10)
    replies = await _whatsapp_press(web, fake_twilio, "Snooze 15 min", dose_data(dose, "s"))
    assert replies == ["OK, I'll remind you again at 12:25 PM about your 12:00 PM dose."]
    # Taken and Snooze again, as on Telegram: three quick replies (tests/bot/test_snooze_again.py).
    assert [title for title, _ in fake_twilio.messages[-1].buttons] == [
        "Taken",
        "Snooze 30 min",
        "Snooze 60 min",
    ]
    assert (await _dose(admin_conn, dose))["status"] == "snoozed"
    assert await _reminders_after(admin_conn, dose, DUE) == 1


async def test_whatsapp_taken_and_skip_on_yesterdays_dose_count_and_name_the_day(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    dose = await _reminded(admin_conn, db, senders, chat_clock, {"whatsapp": NUMBER})
    # The next morning, 9:00: yesterday's reminder's Taken.
    chat_clock.now = DUE + timedelta(hours=21)
    replies = await _whatsapp_press(web, fake_twilio, "Taken", dose_data(dose, "t"))
    assert replies == ["Taken at 9:00 AM: your 12:00 PM dose on Wed, March 4. Well done!"]
    after = await _dose(admin_conn, dose)
    assert after["status"] == "taken" and after["answered_at"] == chat_clock.now
    assert after["pill_count"] == 9
    # Skip pressed after it: the first answer stands, and the reply names the day too.
    replies = await _whatsapp_press(web, fake_twilio, "Skip", dose_data(dose, "k"))
    assert replies == [
        "This dose was already recorded as taken: your 12:00 PM dose on Wed, March 4."
    ]


async def test_telegram_skip_on_yesterdays_dose_names_the_day_and_today_s_does_not(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    dose = await _reminded(admin_conn, db, senders, chat_clock, {"telegram": str(CHAT)})
    # Today's dose, pressed at once, takes the one-statement turn: no day in its reply.
    today = await admin_conn.fetchval(
        "select id from dose_events where patient_id = (select patient_id from dose_events"
        " where id = $1) and due_at = $2",
        dose,
        DUE + timedelta(days=1),
    )
    chat_clock.now = DUE + timedelta(days=1, minutes=1)
    said = await _telegram_press(web, fake_telegram, dose_data(dose, "k"))
    assert said == ["Skipped: your 12:00 PM dose on Wed, March 4. I've noted it."]
    assert (await _dose(admin_conn, dose))["status"] == "skipped"
    assert today is not None
    said = await _telegram_press(web, fake_telegram, dose_data(today, "k"))
    assert said == ["Skipped: your 12:00 PM dose. I've noted it."]


async def test_spanish_snooze_refusal_and_dated_taken(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    dose = await _reminded(
        admin_conn, db, senders, chat_clock, {"telegram": str(CHAT)}, locale="es"
    )
    chat_clock.now = DUE + timedelta(days=2)
    said = await _telegram_press(web, fake_telegram, dose_data(dose, "s"))
    assert said == [
        "Es demasiado tarde para posponer tu dosis de las 12:00 del mié, 4 de marzo: no volveré"
        " a recordártela. Si la tomaste, responde Tomada."
    ]
    assert await _reminders_after(admin_conn, dose, DUE) == 0
    said = await _telegram_press(web, fake_telegram, dose_data(dose, "t"))
    assert said == ["Tomada a las 12:00: tu dosis de las 12:00 del mié, 4 de marzo. ¡Bien hecho!"]
