"""An answer to an old reminder of a medicine deleted since records nothing, and says so.

Before: Taken pressed (or typed) on yesterday's reminder of a medicine the patient or the clinic
had deleted turned the dose, cancelled with its medicine, into "taken", counted a pill down and
answered "Taken at ... Well done!". Driven over the web process's webhooks (Telegram presses take
the one-statement button turn; SMS answers are typed), the worker's dispatcher sending the
reminders to the loopback Telegram and Twilio. Quiet hours are set explicitly (02:00-03:00).
"""

from __future__ import annotations

from datetime import time, timedelta
from uuid import UUID

import asyncpg
import httpx

from core.answer_buttons import dose_data
from core.db import Database
from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import (
    START,
    Clock,
    plain,
    telegram_press,
    telegram_text,
    twilio_inbound,
    worker,
)

CHAT = 7_400_150
NUMBER = "+14155550160"
QUIET = {"quiet_start": time(2, 0), "quiet_end": time(3, 0)}
REFUSED = "That medicine is no longer in your list, so nothing was recorded."


async def _reminded(
    conn: asyncpg.Connection, db: Database, senders: dict, clock: Clock, contacts: dict[str, str]
) -> tuple[UUID, UUID, UUID]:
    """A clinic's patient with Metformin (10 pills) at noon, reminded at noon."""
    org = await factories.create_organization(
        conn, default_quiet_start=time(2, 0), default_quiet_end=time(3, 0)
    )
    patient = await factories.create_patient(conn, org["id"], contacts=contacts, **QUIET)
    medication, _ = await factories.create_medication(
        conn, patient["id"], times=(time(12, 0),), pill_count=10
    )
    await replan_patient(conn, patient["id"], START)
    clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, clock).run_once() == 1
    dose = await conn.fetchval(
        "select id from dose_events where medication_id = $1 and due_at = $2",
        medication["id"],
        clock.now,
    )
    return patient["id"], medication["id"], dose


async def _nothing_recorded(conn: asyncpg.Connection, medication: UUID, dose: UUID) -> None:
    row = await conn.fetchrow(
        "select d.status, d.answered_at, m.pill_count from dose_events d"
        " join medications m on m.id = d.medication_id where d.id = $1",
        dose,
    )
    assert row["status"] != "taken" and row["answered_at"] is None, dict(row)
    assert row["pill_count"] == 10
    del medication


async def test_taken_pressed_after_the_patient_deleted_the_medicine(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    _, medication, dose = await _reminded(
        admin_conn, db, senders, chat_clock, {"telegram": str(CHAT)}
    )
    # The patient deletes Metformin in /meds, an hour later.
    chat_clock.now += timedelta(hours=1)
    await telegram_text(web, CHAT, "/meds")
    listing = fake_telegram.sent_messages[-1]
    delete = next(d for row in listing.buttons() for label, d in row if "Delete" in label)
    await telegram_press(web, CHAT, delete)
    confirm = fake_telegram.sent_messages[-1].buttons()
    yes = next(d for row in confirm for label, d in row if label == "Yes")
    await telegram_press(web, CHAT, yes)
    assert (
        await admin_conn.fetchval("select status from medications where id = $1", medication)
        == "deleted"
    )

    # Taken on the old reminder (the one-statement turn's button): refused, kindly.
    before = len(fake_telegram.calls)
    await telegram_press(web, CHAT, dose_data(dose, "t"))
    said = [plain(c.text) for c in fake_telegram.calls[before:] if c.text]
    assert any(s.startswith(REFUSED) for s in said), said
    assert not any("Taken at" in s or "Well done" in s for s in said)
    await _nothing_recorded(admin_conn, medication, dose)
    # Skip, and a typed "Taken", are refused the same way.
    await telegram_press(web, CHAT, dose_data(dose, "k"))
    await telegram_text(web, CHAT, "Taken")
    await _nothing_recorded(admin_conn, medication, dose)
    said = [plain(c.text) for c in fake_telegram.calls[before:] if c.text]
    assert not any("Taken at" in s or "Skipped" in s for s in said), said


async def test_a_typed_answer_after_the_clinic_deleted_the_medicine(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
) -> None:
    _, medication, dose = await _reminded(admin_conn, db, senders, chat_clock, {"sms": NUMBER})
    # The clinic deletes it on the dashboard (the status only: the reminder's dose stays due).
    await admin_conn.execute("update medications set status = 'deleted' where id = $1", medication)
    chat_clock.now += timedelta(minutes=5)
    before = len(fake_twilio.messages)
    await twilio_inbound(web, NUMBER, "1")
    said = "\n".join(plain(m.body) for m in fake_twilio.messages[before:])
    assert REFUSED in said, said
    assert "Taken at" not in said
    await _nothing_recorded(admin_conn, medication, dose)
    # The question is closed: another "1" finds nothing waiting, and still records nothing.
    before = len(fake_twilio.messages)
    await twilio_inbound(web, NUMBER, "1")
    assert "Nothing is waiting" in "\n".join(m.body or "" for m in fake_twilio.messages[before:])
    await _nothing_recorded(admin_conn, medication, dose)


async def test_a_paused_medicines_dose_is_still_recorded(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    """Paused is not deleted: a pill taken while reminders rest still counts."""
    _, medication, dose = await _reminded(
        admin_conn, db, senders, chat_clock, {"telegram": str(CHAT)}
    )
    await admin_conn.execute("update medications set status = 'paused' where id = $1", medication)
    await telegram_press(web, CHAT, dose_data(dose, "t"))
    assert await admin_conn.fetchval("select status from dose_events where id = $1", dose) == (
        "taken"
    )
