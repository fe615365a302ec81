"""A caregiver's number typed by a patient of no clinic gets alerts once it has written to us.

Anyone can register on the service's bot and, in /settings, name a caregiver by any phone
number. Every dose they leave unanswered then sent an SMS alert there at the service's cost: a
stranger's phone, or a premium-rate one (SMS pumping), as often as they add medicines and times.
Now such a number's alerts are held until it has sent the service a message (the caregiver's
agreement); the patient is told so. Through the bot's real intake (the webhook's parse, store,
process) on the loopback Telegram and Twilio, and the planner that writes the alerts.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import asyncpg

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories
from tests.bot.conftest import Bot
from tests.bot.test_telegram_flow import onboard
from tests.planner.conftest import mark_sent, messages

CAREGIVER = "+14155550166"


async def _miss_the_next_dose(db: Database, settings: Settings, conn: asyncpg.Connection) -> Any:
    """The earliest planned reminder goes out, nobody answers, the dose ends missed."""
    reminder = await conn.fetchrow(
        "select * from scheduled_messages where kind = 'medication_reminder'"
        " and status = 'pending' order by scheduled_time limit 1"
    )
    due = reminder["scheduled_time"]
    await mark_sent(conn, reminder["id"], due)
    await run_planner_tick(db.pool, due + timedelta(minutes=1), settings)
    for nag in await messages(conn, reminder["patient_id"], "dose_followup"):
        await mark_sent(conn, nag["id"], nag["scheduled_time"])
    await run_planner_tick(db.pool, due + timedelta(hours=3), settings)
    status = await conn.fetchval(
        "select status from dose_events where id = $1", reminder["dose_event_id"]
    )
    assert status == "missed"
    return reminder["patient_id"]


async def test_an_unproven_caregiver_number_gets_no_alert_until_it_writes(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await onboard(bot, chat, name="Mallory")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, "Eve")
    await bot.press(chat, "SMS")
    await bot.send(chat, "+1 415 555 0166")
    await bot.press(chat, "Same as mine")
    said = [c.text or "" for c in await bot.press(chat, "30") if c.text]
    assert any(text.startswith("Saved.") for text in said), said

    patient = await admin_conn.fetchval("select id from patients")
    await factories.create_medication(admin_conn, patient, times=(time(8, 0), time(20, 0)))
    await run_planner_tick(db.pool, bot.clock.now, settings)
    await _miss_the_next_dose(db, settings, admin_conn)
    assert await messages(admin_conn, patient, "missed_dose_caregiver", None) == []
    # Mallory was told why.
    assert any("Alerts to Eve start once their phone has sent" in text for text in said)

    # Eve's phone texts the service: she agrees, and the next missed dose alerts her.
    await bot.sms(CAREGIVER, "Hi, this is Eve")
    await _miss_the_next_dose(db, settings, admin_conn)
    alerts = await messages(admin_conn, patient, "missed_dose_caregiver")
    assert len(alerts) == 1
    caregiver = await admin_conn.fetchval("select address from caregivers where active")
    assert caregiver == CAREGIVER


async def test_a_clinics_patients_caregiver_is_alerted_without_proof(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """A clinic enters its patients' caregivers itself: its word stands, as before."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"])
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address) values ($1, 'Sam', 'sms', $2)",
        patient["id"],
        CAREGIVER,
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await run_planner_tick(db.pool, bot.clock.now, settings)
    await _miss_the_next_dose(db, settings, admin_conn)
    assert len(await messages(admin_conn, patient["id"], "missed_dose_caregiver")) == 1
