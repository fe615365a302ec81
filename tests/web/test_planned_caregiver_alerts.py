"""A missed-dose alert waits (the caregiver's alert_delay_minutes, quiet hours) before it goes:
what the patient, the caregiver or the clinic does meanwhile decides whether it still goes.

Driven as the product runs (the harness of test_caregiver_opt_out): the planner marks the noon
dose missed at 12:15 and plans Lucía's alert for 12:45; the patient (on SMS) and the caregivers
write to the web process's signed webhooks, a clinician writes as the dashboard does (Supabase,
role authenticated), and the worker's dispatcher sends through the real adapters to the loopback
Twilio. One clock drives everything, so the tests pass at any hour.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from uuid import UUID

import asyncpg
import httpx

from core.db import Database
from core.settings import Settings
from scheduler.holds import PAUSE_REASON
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.integration.clinician import as_clinician
from tests.web.chat import START, Clock, twilio_inbound
from tests.web.test_caregiver_opt_out import CAREGIVER_SMS, PATIENT, QUIET, _setup
from tests.web.worker_day import Day, sms_to

NOON = START + timedelta(minutes=10)
MISSED = NOON + timedelta(minutes=16)  # missed at 12:15: Lucía's alert is planned for 12:45
AFTER_ALERT = NOON + timedelta(minutes=50)  # 12:50


async def _planned(
    conn: asyncpg.Connection, org: UUID, day: Day
) -> tuple[UUID, dict[str, UUID], UUID]:
    """The patient, the caregivers and Lucía's alert, planned for 12:45 and waiting."""
    patient, caregivers = await _setup(conn, org)
    await conn.execute(
        "update caregivers set alert_delay_minutes = 30 where id = $1", caregivers["Lucía"]
    )
    await day.at(START)
    await day.at(NOON)
    await day.at(MISSED)
    alert = await conn.fetchrow(
        "select id, status from scheduled_messages where caregiver_id = $1", caregivers["Lucía"]
    )
    assert alert["status"] == "pending"
    return patient, caregivers, alert["id"]


async def _state(conn: asyncpg.Connection, message: UUID) -> tuple[str, str | None]:
    row = await conn.fetchrow(
        "select status, last_error from scheduled_messages where id = $1", message
    )
    return row["status"], row["last_error"]


def _option(text: str, label: str) -> str:
    """The number an SMS menu gives the option starting with ``label``."""
    found = re.search(rf"(\d+)\W+{label}", text)
    assert found, text
    return found.group(1)


async def test_the_medicine_deleted_while_its_alert_waits_withdraws_the_alert(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """Ana deletes Metformin (/meds) at 12:20: nobody is told at 12:45 that she did not take
    a medicine she no longer has (and could no longer confirm: nothing is recorded against a
    deleted medicine)."""
    day = Day(db, senders, chat_clock, web_settings)
    _, _, alert = await _planned(admin_conn, org["id"], day)
    chat_clock.now = MISSED + timedelta(minutes=4)
    before = len(fake_twilio.messages)
    await twilio_inbound(web, PATIENT, "/meds")
    listing = "\n".join(m.body or "" for m in fake_twilio.messages[before:] if m.to == PATIENT)
    await twilio_inbound(web, PATIENT, _option(listing, "Delete"))
    confirm = fake_twilio.messages[-1].body or ""
    await twilio_inbound(web, PATIENT, _option(confirm, "Yes"))
    assert fake_twilio.messages[-1].body == "Deleted Metformin.", fake_twilio.messages[-1].body
    await day.at(AFTER_ALERT)
    assert sms_to(fake_twilio, CAREGIVER_SMS) == []
    assert await _state(admin_conn, alert) == ("cancelled", "medicine deleted")


async def test_the_medicine_deleted_on_the_dashboard_withdraws_its_waiting_alert(
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """The clinic deletes (or pauses) the medicine: the status only, as the dashboard does."""
    day = Day(db, senders, chat_clock, web_settings)
    _, _, alert = await _planned(admin_conn, org["id"], day)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await conn.execute(
            "update medications m set status = 'paused' from scheduled_messages s"
            " join dose_events d on d.id = s.dose_event_id"
            " where s.id = $1 and m.id = d.medication_id",
            alert,
        )
    await day.at(AFTER_ALERT)
    assert sms_to(fake_twilio, CAREGIVER_SMS) == []
    assert await _state(admin_conn, alert) == ("cancelled", "medicine paused")


async def test_a_pause_while_the_alert_waits_withdraws_it_and_the_resume_does_not_send_it(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    day = Day(db, senders, chat_clock, web_settings)
    _, _, alert = await _planned(admin_conn, org["id"], day)
    chat_clock.now = MISSED + timedelta(minutes=4)
    await twilio_inbound(web, PATIENT, "/pause")
    assert await _state(admin_conn, alert) == ("cancelled", PAUSE_REASON)
    chat_clock.now += timedelta(minutes=5)
    await twilio_inbound(web, PATIENT, "/resume")
    await day.at(AFTER_ALERT)
    assert sms_to(fake_twilio, CAREGIVER_SMS) == []
    assert await _state(admin_conn, alert) == ("cancelled", PAUSE_REASON)


async def test_a_late_taken_while_the_alert_waits_withdraws_it(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """Ana answers Taken (1) at 12:20, after the missed mark: the caregiver is not told she did
    not."""
    day = Day(db, senders, chat_clock, web_settings)
    patient, _, alert = await _planned(admin_conn, org["id"], day)
    chat_clock.now = MISSED + timedelta(minutes=4)
    await twilio_inbound(web, PATIENT, "1")
    assert "Taken" in (fake_twilio.messages[-1].body or ""), fake_twilio.messages[-1].body
    assert (
        await admin_conn.fetchval(
            "select status from dose_events where patient_id = $1 and due_at = $2", patient, NOON
        )
        == "taken"
    )
    await day.at(AFTER_ALERT)
    assert sms_to(fake_twilio, CAREGIVER_SMS) == []
    assert (await _state(admin_conn, alert))[0] == "cancelled"


async def test_a_caregiver_removed_or_opted_out_by_any_path_has_its_waiting_alerts_withdrawn(
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """Not only the caregiver's own STOP (the bot): a clinician who records the opt-out or
    removes the caregiver (the dashboard, through Supabase), the patient who removes them (the
    bot's /settings sets active = false) and the carrier's 21610 (the dispatcher) withdraw what
    is planned for them at once, as cancelled with the reason, not failed when it falls due."""
    day = Day(db, senders, chat_clock, web_settings)
    patient, caregivers, alert = await _planned(admin_conn, org["id"], day)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await conn.execute(
            "update caregivers set opted_out_at = now() where id = $1", caregivers["Lucía"]
        )
    assert await _state(admin_conn, alert) == ("cancelled", "the caregiver opted out")

    # Ben's alerts (another dose of another day): removed by the patient.
    await admin_conn.execute(
        "update caregivers set alert_delay_minutes = 30 where id = $1", caregivers["Ben"]
    )
    await day.miss_a_day(1)
    ben = await admin_conn.fetchval(
        "select id from scheduled_messages where caregiver_id = $1 and status = 'pending'",
        caregivers["Ben"],
    )
    assert ben is not None
    await admin_conn.execute("update caregivers set active = false where patient_id = $1", patient)
    assert await _state(admin_conn, ben) == ("cancelled", "the caregiver was removed")
    await day.at(START + timedelta(days=1, hours=1))
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where caregiver_id = any($1::uuid[])"
            " and status not in ('cancelled', 'sent')",  # Ben's first, at once on day 0, went
            list(caregivers.values()),
        )
        == 0
    )
    assert sms_to(fake_twilio, CAREGIVER_SMS) == []


async def _second_patient(conn: asyncpg.Connection, org: UUID) -> UUID:
    """Bo, whose caregiver is Lucía too (her number), alerted 30 minutes after a noon miss."""
    bo = await factories.create_patient(
        conn, org, contacts={"sms": "+14155550149"}, display_name="Bo", nag_max=0, **QUIET
    )
    caregiver: UUID = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, 'Lucía', 'sms', $2, 30) returning id",
        bo["id"],
        CAREGIVER_SMS,
    )
    await factories.create_medication(conn, bo["id"], name="Lisinopril", times=(time(12, 0),))
    return caregiver


async def test_the_stop_of_a_caregiver_of_two_patients_withdraws_both_alerts(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """Her STOP is her number's: nothing more for either patient."""
    for_bo = await _second_patient(admin_conn, org["id"])
    day = Day(db, senders, chat_clock, web_settings)
    _, _, alert = await _planned(admin_conn, org["id"], day)
    bos = await admin_conn.fetchval(
        "select id from scheduled_messages where caregiver_id = $1 and status = 'pending'", for_bo
    )
    assert bos is not None
    chat_clock.now = MISSED + timedelta(minutes=4)
    await twilio_inbound(web, CAREGIVER_SMS, "PARAR")
    for message in (alert, bos):
        assert await _state(admin_conn, message) == ("cancelled", "the caregiver opted out")
    await day.at(AFTER_ALERT)
    assert len(sms_to(fake_twilio, CAREGIVER_SMS)) == 1  # the opt-out's confirmation only


async def test_the_carriers_opt_out_on_one_patients_alert_withdraws_the_other_patients(
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """Twilio answers 21610 to Ana's alert (at once): Bo's, planned for 12:45, is withdrawn."""
    for_bo = await _second_patient(admin_conn, org["id"])
    fake_twilio.opt_out(CAREGIVER_SMS)
    day = Day(db, senders, chat_clock, web_settings)
    await _setup(admin_conn, org["id"])
    await day.at(START)
    await day.at(NOON)
    await day.at(MISSED)  # Ana's alerts go at once: Lucía's meets 21610
    bos = await admin_conn.fetchrow(
        "select status, last_error from scheduled_messages where caregiver_id = $1", for_bo
    )
    assert (bos["status"], bos["last_error"]) == ("cancelled", "the caregiver opted out")
    await day.at(AFTER_ALERT)
    assert sms_to(fake_twilio, CAREGIVER_SMS) == []


async def test_a_snooze_after_the_miss_moves_the_alert_to_the_next_miss(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """Ana snoozes the missed dose at 12:20 (the alert waits: withdrawn, she answered), is
    reminded at 12:35, and answers nothing: missed again at 12:50, Lucía is alerted at 13:20.
    Before, the snooze's cancelled alert kept its key and the second miss planned none: a
    patient who snoozed and forgot was never reported."""
    day = Day(db, senders, chat_clock, web_settings)
    _, _, alert = await _planned(admin_conn, org["id"], day)
    chat_clock.now = MISSED + timedelta(minutes=4)
    reminder = next(m.body or "" for m in fake_twilio.messages if m.to == PATIENT)
    await twilio_inbound(web, PATIENT, _option(reminder, "Snooze"))
    assert await _state(admin_conn, alert) == ("cancelled", "dose snoozed")
    for minutes in (36, 51, 81):  # reminded again, missed again, the alert due
        await day.at(NOON + timedelta(minutes=minutes))
    assert sms_to(fake_twilio, CAREGIVER_SMS) == [
        "Hi Lucía. Ana has not confirmed a scheduled reminder from 12:00 PM."
        " You may want to check in with them."
    ]
    assert (await _state(admin_conn, alert))[0] == "sent"
    # Once told, not again for the same dose.
    await day.at(NOON + timedelta(hours=3))
    assert len(sms_to(fake_twilio, CAREGIVER_SMS)) == 1
