"""A typed answer goes to the question asked last, also when two were asked at one instant.

The dialog's question (its step's options, kept in the conversation's state) and a reminder's
(``conversation_questions``, recorded by the worker's dispatcher) carry when they were asked; on
a tie the router put the reminder first, whichever the patient saw last, so a "1" meant for the
/settings menu just opened recorded the reminder's dose as taken. Ties come from one frozen clock
here (the web app's and the worker's); in production they need two clocks that agree to the
microsecond. The order is total now: the dialog's question takes a place in the order of the
chat's recorded questions when its turn is saved (migration 20260101014900).

Over the web process: the worker's dispatcher sends to the loopback Telegram and Twilio; the
patient writes through ``/telegram/webhook`` with the secret and the signed ``/twilio/inbound``.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest

from core.db import Database
from tests import factories
from tests.web.chat import START, Clock, telegram_press, telegram_text, twilio_inbound, worker
from tests.web.test_answer_router import _reminder

NUMBER = "+14155550177"
CHAT = 555_140_177
# Per case: the channel, the command that opens a dialog, what the dialog's step is then, and
# the typed answer that both the dialog's question and the reminder's show ("1": the menu's
# first option and the reminder's Taken; "skip": the dose step's Skip and the reminder's Skip).
CASES = {
    "sms number": ("sms", "/settings", "settings_menu", "1", "taken"),
    "sms word": ("sms", "/add Metformin", "add_dose", "skip", "skipped"),
    "whatsapp word": ("whatsapp", "/add Metformin", "add_dose", "skip", "skipped"),
    "telegram word": ("telegram", "/add Metformin", "add_dose", "skip", "skipped"),
}


@pytest.fixture
def senders(wa_senders: dict) -> dict:
    """The processes' senders (tests/web/conftest.py ``wa_senders``): WhatsApp replies and
    reminders go out in the 24-hour window the patient's first message opened (the reminder
    with quick-reply buttons). Overrides ``senders`` for ``web`` and the worker alike."""
    return wa_senders


async def _say(web: httpx.AsyncClient, channel: str, text: str) -> None:
    if channel == "telegram":
        await telegram_text(web, CHAT, text)
    else:
        await twilio_inbound(web, f"whatsapp:{NUMBER}" if channel == "whatsapp" else NUMBER, text)


async def _remind(
    conn: asyncpg.Connection, db: Database, senders: dict, clock: Clock, patient_id: UUID
) -> UUID:
    """A dose due now, its reminder sent by the worker at the clock's instant; the dose."""
    _, schedule = await factories.create_medication(conn, patient_id)
    dose = await _reminder(conn, patient_id, schedule, clock)
    assert await worker(db, senders, clock).run_once() == 1
    return dose


async def _state(conn: asyncpg.Connection, dose: UUID) -> tuple[str, str]:
    """The dose's status and the conversation's step."""
    row = await conn.fetchrow(
        "select (select status from dose_events where id = $1) as dose,"
        " (select step from conversations) as step",
        dose,
    )
    return row["dose"], row["step"]


async def _tied(conn: asyncpg.Connection) -> bool:
    """Whether the reminder's question and the dialog's were asked at one instant."""
    return await conn.fetchval(
        "select q.asked_at = (c.state ->> 'asked_at')::timestamptz"
        " from conversation_questions q, conversations c"
    )


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("last", ["dialog", "reminder"])
async def test_a_typed_answer_goes_to_the_question_asked_last_at_one_instant(
    case: str,
    last: str,
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
) -> None:
    channel, command, step, typed, recorded = CASES[case]
    address = str(CHAT) if channel == "telegram" else NUMBER
    patient = await factories.create_patient(admin_conn, org["id"], contacts={channel: address})
    if channel == "whatsapp":
        await _say(web, channel, "hello")  # the patient writes first, as WhatsApp wants
    chat_clock.now = START + timedelta(minutes=10)  # and the clock stays there
    if last == "dialog":
        dose = await _remind(admin_conn, db, senders, chat_clock, patient["id"])
        await _say(web, channel, command)
    else:
        await _say(web, channel, command)
        dose = await _remind(admin_conn, db, senders, chat_clock, patient["id"])
    assert await _state(admin_conn, dose) == ("due", step)
    assert await _tied(admin_conn), "the two questions were not asked at one instant"

    await _say(web, channel, typed)
    dose_status, now_at = await _state(admin_conn, dose)
    if last == "dialog":
        # The dialog's question, shown after the reminder, takes it: its step moves on.
        assert (dose_status, now_at != step) == ("due", True), (dose_status, now_at)
    else:
        # The reminder, shown after the dialog's question: its dose; the dialog stays.
        assert (dose_status, now_at) == (recorded, step)


async def test_a_snoozes_question_and_a_dialog_asked_after_it_at_one_instant(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
) -> None:
    """A question the bot records in a turn (a snooze's reply keeps Taken) is ordered with the
    dialog's question of a later turn at the same instant: "Taken" goes to /add's dose step,
    which reads any text as the dose, not to the snoozed dose."""
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": str(CHAT)}
    )
    chat_clock.now = START + timedelta(minutes=10)
    dose = await _remind(admin_conn, db, senders, chat_clock, patient["id"])
    await telegram_press(web, CHAT, f"d:{dose.hex}:s")
    assert await _state(admin_conn, dose) == ("snoozed", "idle")
    await _say(web, "telegram", "/add Metformin")
    await _say(web, "telegram", "Taken")  # the dose step reads it as the dose: "Taken"
    assert await _state(admin_conn, dose) == ("snoozed", "add_times")
