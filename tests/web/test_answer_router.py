"""Issue 14, item 2: one answer router, over the web process.

Every message that asks something is recorded on its chat with the options it showed, and a typed
answer goes to the latest open question that accepts it. The worker's dispatcher sends reminders
and appointment messages to the loopback Telegram and Twilio; the patient answers through the
signed ``/twilio/inbound`` and ``/telegram/webhook`` with the secret.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg
import httpx

from core.answer_buttons import appointment_answer_options
from core.db import Database
from core.inbound_window import LastInboundLookup
from core.settings import Settings
from medremind.web import create_app
from platforms.registry import build_senders
from platforms.whatsapp_content_store import PostgresContentStore
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import (
    START,
    Clock,
    telegram_press,
    telegram_text,
    twilio_inbound,
    worker,
)
from tests.web.conftest import make_client

NUMBER = "+14155550123"


async def _reminder(
    conn: asyncpg.Connection, patient_id: UUID, schedule: asyncpg.Record, at: Clock
) -> UUID:
    """A dose due now and its reminder row, for the worker to send."""
    dose = await factories.create_dose_event(conn, schedule, at.now)
    await factories.create_message(
        conn,
        patient_id,
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=at.now,
        priority=1,
    )
    return dose["id"]


async def _appointment_question(
    conn: asyncpg.Connection,
    patient: asyncpg.Record,
    at: Clock,
    days: float,
    kind: str = "appointment_confirmation",
) -> UUID:
    """An appointment ``days`` ahead and its confirmation message (or ``kind``), for the worker
    to send."""
    appointment = await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)"
        " returning id",
        patient["organization_id"],
        patient["id"],
        at.now + timedelta(days=days),
    )
    await factories.create_message(
        conn,
        patient["id"],
        kind=kind,
        message_content=None,
        appointment_id=appointment,
        scheduled_time=at.now,
    )
    return appointment


def _sms_since(twilio: FakeTwilio, since: int) -> str:
    return "\n".join(m.body or "" for m in twilio.messages[since:] if m.to == NUMBER)


async def test_sms_reminder_during_settings_answered_by_number_and_word(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dispatcher = worker(db, senders, chat_clock)

    async def say(text: str) -> str:
        before = len(fake_twilio.messages)
        await twilio_inbound(web, NUMBER, text)
        return _sms_since(fake_twilio, before)

    assert "1 Time zone\n2 Home or follow" in await say("/settings")
    chat_clock.now = START + timedelta(minutes=10)
    first = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await dispatcher.run_once() == 1
    assert (fake_twilio.messages[-1].body or "").endswith("1 Taken\n2 Snooze 15 min\n3 Skip")

    # "1" answers the reminder, the newest question; /settings stays open.
    assert "Taken at" in await say("1")
    assert await admin_conn.fetchval("select status from dose_events where id = $1", first) == (
        "taken"
    )
    assert await admin_conn.fetchval("select step from conversations") == "settings_menu"

    chat_clock.now = START + timedelta(minutes=20)
    second = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await dispatcher.run_once() == 1
    assert "Taken at" in await say("Taken")
    assert await admin_conn.fetchval("select status from dose_events where id = $1", second) == (
        "taken"
    )
    # With the reminders answered, a "2" first shows the settings menu again (the patient last
    # read the reminder's reply, not the menu: tests/web/test_menu_after_an_answer.py), then "2"
    # is its second option.
    again = await say("2")
    assert "Here is where we were" in again and "1 Time zone\n2 Home or follow" in again, again
    assert await admin_conn.fetchval("select step from conversations") == "settings_menu"
    assert "When you travel" in await say("2")
    assert await admin_conn.fetchval("select step from conversations") == "set_tz_mode"

    # A reminder waits while the dialog cannot read the input: the reprompt says what to answer.
    chat_clock.now = START + timedelta(minutes=30)
    third = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await dispatcher.run_once() == 1
    reprompt = await say("banana")
    assert "Please pick one of the options" in reprompt
    assert "1 Keep home times\n2 Follow me" in reprompt
    waiting = "Also waiting for your answer: your 12:20 PM dose. Reply Taken, Snooze 15 min or Skip"
    assert waiting in reprompt.replace("\u202f", " ")  # CLDR's narrow space before PM
    assert "Skipped" in await say("skip")
    assert await admin_conn.fetchval("select status from dose_events where id = $1", third) == (
        "skipped"
    )
    # /cancel (in /help) leaves the dialog; then nothing is open.
    assert "/cancel" in await say("/help")
    assert "cancelled" in await say("/cancel")
    assert "Nothing is waiting for an answer" in await say("1")


async def test_appointment_confirmation_by_number_word_or_letter_over_sms(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dispatcher = worker(db, senders, chat_clock)
    chat_clock.now = START + timedelta(minutes=10)

    async def status(appointment: UUID) -> str:
        return await admin_conn.fetchval(
            "select status from appointments where id = $1", appointment
        )

    # A dose reminder first, then an appointment question: "1" answers the newer, the visit.
    dose = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await dispatcher.run_once() == 1
    chat_clock.now += timedelta(minutes=1)
    visits = [await _appointment_question(admin_conn, patient, chat_clock, d) for d in (2, 3, 4)]
    assert await dispatcher.run_once() == 3
    texts_sent = [m.body or "" for m in fake_twilio.messages[-3:]]
    for text in texts_sent:
        assert "Reply 1 or C to confirm, 2 or R to reschedule, 3 or X to cancel." in text
        assert "\n1 " not in text  # the text asks; no numbered list appended

    for answer in ("1", "Confirm", "c"):
        before = len(fake_twilio.messages)
        await twilio_inbound(web, NUMBER, answer)
        assert "Confirmed" in _sms_since(fake_twilio, before), answer
    assert [await status(v) for v in visits] == ["confirmed"] * 3
    assert await admin_conn.fetchval("select status from dose_events where id = $1", dose) == "due"

    # Now the dose's reminder is the only open question: "1" is Taken.
    before = len(fake_twilio.messages)
    await twilio_inbound(web, NUMBER, "1")
    assert "Taken at" in _sms_since(fake_twilio, before)
    assert await admin_conn.fetchval("select status from dose_events where id = $1", dose) == (
        "taken"
    )


async def test_confirm_typed_to_an_appointment_reminder_confirms_that_appointment(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """Found by tests/web/test_clinic_and_patient_stateful.py. The SMS reminder of a visit says
    "Reply 1 or C to confirm" but its option reads "I'll be there", so the word "confirm" was not
    taken by it and went on to an older question: another visit's booking message ("Confirm"),
    which was confirmed instead (in the machine's run, one the clinic had just moved, before the
    patient was told)."""
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER})
    dispatcher = worker(db, senders, chat_clock)
    chat_clock.now = START + timedelta(minutes=10)
    booked = await _appointment_question(admin_conn, patient, chat_clock, 3)
    assert await dispatcher.run_once() == 1
    chat_clock.now += timedelta(minutes=1)
    tomorrow = await _appointment_question(
        admin_conn, patient, chat_clock, 0.8, kind="appointment_reminder"
    )
    assert await dispatcher.run_once() == 1
    assert "Reply 1 or C to confirm" in (fake_twilio.messages[-1].body or "")

    await twilio_inbound(web, NUMBER, "confirm")
    statuses = await admin_conn.fetch(
        "select id, status from appointments where patient_id = $1", patient["id"]
    )
    assert {r["id"]: r["status"] for r in statuses} == {
        tomorrow: "confirmed",
        booked: "scheduled",
    }


async def test_appointment_confirmation_over_telegram(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    org: asyncpg.Record,
) -> None:
    chat = 555_140_101
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": str(chat)}
    )
    dispatcher = worker(db, senders, chat_clock)
    chat_clock.now = START + timedelta(minutes=10)
    visits = []
    for days in (2, 3, 4):  # sent a minute apart: the newest question is the last visit's
        visits.append(await _appointment_question(admin_conn, patient, chat_clock, days))
        assert await dispatcher.run_once() == 1
        chat_clock.now += timedelta(minutes=1)
    first = visits[0]
    sent = [c for c in fake_telegram.sent_messages if str(c.chat_id) == str(chat)]
    assert [label for row in sent[-1].buttons() for label, _ in row] == [
        "Confirm",
        "Reschedule",
        "Cancel appointment",
    ]

    async def say(text: str) -> str:
        before = len(fake_telegram.calls)
        await telegram_text(web, chat, text)
        return "\n".join(c.text or "" for c in fake_telegram.calls[before:])

    # Telegram shows buttons, not numbers: "1" is not an answer here, and the reprompt says
    # what is (with the buttons again); the option's word, in any case, is.
    reprompt = await say("1")
    assert "You can answer your appointment on" in reprompt and "Confirm" in reprompt
    statuses = "select status from appointments order by starts_at"
    assert {r["status"] for r in await admin_conn.fetch(statuses)} == {"scheduled"}
    assert "Confirmed" in await say("confirm")
    assert [r["status"] for r in await admin_conn.fetch(statuses)] == [
        "scheduled",
        "scheduled",
        "confirmed",
    ]
    assert "Confirmed" in await say("CONFIRM")
    # The button of the first message still answers its own appointment.
    await telegram_press(web, chat, dict(appointment_answer_options(first))["confirm"])
    assert [r["status"] for r in await admin_conn.fetch(statuses)] == ["confirmed"] * 3
    assert await say("Confirm") == (
        "Nothing is waiting for an answer right now. Send /help to see what I can do."
    )


async def test_whatsapp_buttons_answer_by_press_or_word_not_by_an_unshown_number(
    web_settings: Settings,
    db: Database,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    wa = "whatsapp:" + NUMBER
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"whatsapp": NUMBER})
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    senders = build_senders(
        web_settings,
        last_inbound_lookup=LastInboundLookup(db),
        content_store=PostgresContentStore(db),
        clock=chat_clock,  # the window measured on the clock the app stores inbound times by
    )
    app = create_app(
        web_settings, database=db, senders=senders, clock=chat_clock, detach_processing=False
    )
    try:
        async with make_client(app) as client:

            async def say(text: str, **button: str) -> str:
                before = len(fake_twilio.messages)
                await twilio_inbound(client, wa, text, **button)
                return "\n".join(m.body or "" for m in fake_twilio.messages[before:])

            # The patient writes first (WhatsApp's 24-hour window opens); nothing is waiting.
            assert "Nothing is waiting" in await say("1")
            chat_clock.now = START + timedelta(minutes=10)
            first = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
            assert await worker(db, senders, chat_clock).run_once() == 1
            reminder = fake_twilio.messages[-1]
            assert [label for label, _ in reminder.buttons] == ["Taken", "Snooze 15 min", "Skip"]

            # Buttons show no numbers: "1" is not an answer; the reprompt names the options.
            reprompt = await say("1")
            assert "You can answer your 12:00" in reprompt and "Taken" in reprompt
            assert await _dose_status(admin_conn, first) == "due"
            assert "Taken at" in await say("taken")
            assert await _dose_status(admin_conn, first) == "taken"

            chat_clock.now = START + timedelta(minutes=20)
            second = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
            assert await worker(db, senders, chat_clock).run_once() == 1
            label, payload = fake_twilio.messages[-1].buttons[2]  # Skip, pressed
            assert payload is not None
            await say(label, button_payload=payload, button_text=label)
            assert await _dose_status(admin_conn, second) == "skipped"
    finally:
        for sender in senders.values():
            await sender.aclose()


async def _dose_status(conn: asyncpg.Connection, dose: UUID) -> str:
    return await conn.fetchval("select status from dose_events where id = $1", dose)
