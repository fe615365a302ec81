"""A caregiver's STOP, /stop or block stops their missed-dose alerts; START brings them back.

Driven as the product runs: the planner plans and marks doses missed, the worker's dispatcher
sends reminders and caregiver alerts through the real adapters to the loopback Twilio and
Telegram, and the caregivers write to the web process's signed webhooks. Quiet hours are set
explicitly (02:00-03:00 for the patient and the clinic, whose window a caregiver's alert waits
out), and one clock drives everything, so the tests pass at any hour.

Before: a caregiver's STOP opted out the chat, and the chat only (a caregiver has no contact
point), so every missed dose still alerted them; a caregiver who blocked the bot was tried
again for every miss; the clinic saw neither. And two doses missed at the same time sent the
caregiver two identical alerts.
"""

from __future__ import annotations

from datetime import time, timedelta
from uuid import UUID

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.integration.clinician import as_clinician
from tests.web.chat import START, Clock, telegram_text, twilio_inbound
from tests.web.worker_day import Day, sms_to, telegram_to

PATIENT = "+14155550140"
CAREGIVER_SMS = "+14155550141"
CAREGIVER_CHAT = 7_300_141
NOON = time(12, 0)  # START is 11:50 UTC; the patient lives in UTC
QUIET = {"quiet_start": time(2, 0), "quiet_end": time(3, 0)}


async def _setup(
    conn: asyncpg.Connection, org: UUID, *, medicines: tuple[str, ...] = ("Metformin",)
) -> tuple[UUID, dict[str, UUID]]:
    """A patient of ``org`` on SMS (one reminder, no follow-up: missed 15 minutes after), with an
    SMS and a Telegram caregiver alerted at once, and ``medicines`` due at noon."""
    await conn.execute(
        "update organizations set default_quiet_start = $2, default_quiet_end = $3 where id = $1",
        org,
        time(2, 0),
        time(3, 0),
    )
    patient = await factories.create_patient(
        conn, org, contacts={"sms": PATIENT}, display_name="Ana", nag_max=0, **QUIET
    )
    caregivers = {}
    for name, channel, address in (
        ("Lucía", "sms", CAREGIVER_SMS),
        ("Ben", "telegram", str(CAREGIVER_CHAT)),
    ):
        caregivers[name] = await conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
            " values ($1, $2, $3, $4, 0) returning id",
            patient["id"],
            name,
            channel,
            address,
        )
    for name in medicines:
        await factories.create_medication(conn, patient["id"], name=name, times=(NOON,))
    return patient["id"], caregivers


async def test_a_caregivers_stop_stops_alerts_and_start_resumes_them(
    web: httpx.AsyncClient,
    auth: dict[str, str],
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
) -> None:
    patient, caregivers = await _setup(admin_conn, org["id"])
    day = Day(db, senders, chat_clock, web_settings)
    await day.at(START)

    # Lucía texts STOP: she is told, and the clinic sees it on her caregiver row.
    await twilio_inbound(web, CAREGIVER_SMS, "STOP")
    assert sms_to(fake_twilio, CAREGIVER_SMS) == [
        "You will not get any more messages here. Reply START to subscribe again."
    ]
    stopped = await admin_conn.fetchval(
        "select opted_out_at from caregivers where id = $1", caregivers["Lucía"]
    )
    assert stopped is not None
    listed = await web.get(f"/api/v1/patients/{patient}/caregivers", headers=auth)
    assert listed.status_code == 200, listed.text
    state = {
        c["name"]: (c["alerted"], c["opted_out_at"] is not None) for c in listed.json()["data"]
    }
    assert state == {"Lucía": (False, True), "Ben": (True, False)}

    await day.miss_a_day(0)
    assert (
        await admin_conn.fetchval(
            "select status from dose_events where patient_id = $1 and due_at = $2",
            patient,
            START + timedelta(minutes=10),
        )
        == "missed"
    )
    # Ben is alerted; Lucía is not, and no alert row waits for her.
    assert telegram_to(fake_telegram, CAREGIVER_CHAT) == [
        "Hi Ben. Ana has not confirmed a scheduled reminder from 12:00 PM."
        " You may want to check in with them."
    ]
    assert len(sms_to(fake_twilio, CAREGIVER_SMS)) == 1
    assert not await admin_conn.fetchval(
        "select count(*) from scheduled_messages where caregiver_id = $1", caregivers["Lucía"]
    )

    # A clinician cannot lift her opt-out (only she can), nor add her number again around it.
    clinician = await factories.create_clinician(admin_conn, org["id"])
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="only the caregiver can opt"):
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            await conn.execute(
                "update caregivers set opted_out_at = null where id = $1", caregivers["Lucía"]
            )
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        again = await conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'L', 'sms', $2) returning opted_out_at",
            patient,
            CAREGIVER_SMS,
        )
        assert again is not None
        await conn.execute("delete from caregivers where name = 'L'")

    # START: she is subscribed again, and the next missed dose alerts her.
    await twilio_inbound(web, CAREGIVER_SMS, "START")
    assert "subscribed again" in sms_to(fake_twilio, CAREGIVER_SMS)[-1]
    assert (
        await admin_conn.fetchval(
            "select opted_out_at from caregivers where id = $1", caregivers["Lucía"]
        )
        is None
    )
    await day.miss_a_day(1)
    assert sms_to(fake_twilio, CAREGIVER_SMS)[-1].startswith(
        "Hi Lucía. Ana has not confirmed a scheduled reminder from 12:00 PM."
    )


async def test_a_caregiver_who_blocks_the_bot_or_sends_stop_there_gets_no_more_alerts(
    web: httpx.AsyncClient,
    auth: dict[str, str],
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
) -> None:
    patient, caregivers = await _setup(admin_conn, org["id"])
    day = Day(db, senders, chat_clock, web_settings)
    await day.at(START)
    # Ben blocked the bot: the first alert meets Telegram's 403, and the caregiver is marked.
    fake_telegram.block_chat(CAREGIVER_CHAT)
    await day.miss_a_day(0)
    blocked = await admin_conn.fetchval(
        "select blocked_at from caregivers where id = $1", caregivers["Ben"]
    )
    assert blocked is not None
    listed = await web.get(f"/api/v1/patients/{patient}/caregivers", headers=auth)
    ben = next(c for c in listed.json()["data"] if c["name"] == "Ben")
    assert ben["unreachable_since"] is not None and not ben["alerted"]
    tried = len(fake_telegram.calls_to("sendMessage", ok_only=False))
    await day.miss_a_day(1)
    # No second try at a chat that blocked the bot; Lucía's alerts go on.
    assert len(fake_telegram.calls_to("sendMessage", ok_only=False)) == tried
    assert len(sms_to(fake_twilio, CAREGIVER_SMS)) == 2

    # Ben unblocks and writes: he is reachable again, and alerted.
    fake_telegram.reset()
    await telegram_text(web, CAREGIVER_CHAT, "hello")
    assert (
        await admin_conn.fetchval(
            "select blocked_at from caregivers where id = $1", caregivers["Ben"]
        )
        is None
    )
    await day.miss_a_day(2)
    assert any("Hi Ben." in t for t in telegram_to(fake_telegram, CAREGIVER_CHAT))

    # /stop on Telegram is his opt-out as STOP is Lucía's.
    await telegram_text(web, CAREGIVER_CHAT, "/stop")
    assert await admin_conn.fetchval(
        "select opted_out_at from caregivers where id = $1", caregivers["Ben"]
    )
    before = len(telegram_to(fake_telegram, CAREGIVER_CHAT))
    await day.miss_a_day(3)
    assert len(telegram_to(fake_telegram, CAREGIVER_CHAT)) == before


async def test_the_carriers_opt_out_stops_a_caregivers_alerts(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """Lucía said STOP to Twilio itself (Twilio answers 21610): marked opted out, not retried."""
    _, caregivers = await _setup(admin_conn, org["id"])
    day = Day(db, senders, chat_clock, web_settings)
    await day.at(START)
    fake_twilio.opt_out(CAREGIVER_SMS)
    await day.miss_a_day(0)
    assert await admin_conn.fetchval(
        "select opted_out_at from caregivers where id = $1", caregivers["Lucía"]
    )
    await day.miss_a_day(1)
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where caregiver_id = $1", caregivers["Lucía"]
        )
        == 1
    )


async def test_two_doses_missed_at_once_are_told_apart_by_their_numbers(
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
    fake_telegram: FakeTelegram,
) -> None:
    """As the patient's own reminders say "of medicine 2", so do the caregivers' alerts; the
    name only where the patient shares details with the caregiver."""
    _, caregivers = await _setup(admin_conn, org["id"], medicines=("Metformin", "Lisinopril"))
    await admin_conn.execute(
        "update caregivers set share_details = true where id = $1", caregivers["Ben"]
    )
    day = Day(db, senders, chat_clock, web_settings)
    await day.at(START)
    await day.miss_a_day(0)
    assert sorted(sms_to(fake_twilio, CAREGIVER_SMS)) == [
        "Hi Lucía. Ana has not confirmed the 12:00 PM dose of medicine 1."
        " You may want to check in with them.",
        "Hi Lucía. Ana has not confirmed the 12:00 PM dose of medicine 2."
        " You may want to check in with them.",
    ]
    assert sorted(telegram_to(fake_telegram, CAREGIVER_CHAT)) == [
        "Hi Ben. Ana has not confirmed the 12:00 PM dose of Lisinopril."
        " You may want to check in with them.",
        "Hi Ben. Ana has not confirmed the 12:00 PM dose of Metformin."
        " You may want to check in with them.",
    ]


async def test_an_alert_already_planned_is_withdrawn_by_the_caregivers_stop(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    web_settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    fake_twilio: FakeTwilio,
) -> None:
    """An alert waits its delay (30 minutes here) after the miss: a STOP meanwhile withdraws it."""
    _, caregivers = await _setup(admin_conn, org["id"])
    await admin_conn.execute(
        "update caregivers set alert_delay_minutes = 30 where id = $1", caregivers["Lucía"]
    )
    day = Day(db, senders, chat_clock, web_settings)
    await day.at(START)
    noon = START + timedelta(minutes=10)
    await day.at(noon)
    await day.at(noon + timedelta(minutes=16))  # missed: Lucía's alert is due at 12:45
    planned = await admin_conn.fetchrow(
        "select status from scheduled_messages where caregiver_id = $1", caregivers["Lucía"]
    )
    assert planned["status"] == "pending"
    await twilio_inbound(web, CAREGIVER_SMS, "Baja")
    assert sms_to(fake_twilio, CAREGIVER_SMS) == [
        "No recibirás más mensajes aquí. Responde COMENZAR (o START) para volver a suscribirte."
    ]
    withdrawn = await admin_conn.fetchrow(
        "select status, last_error from scheduled_messages where caregiver_id = $1",
        caregivers["Lucía"],
    )
    assert (withdrawn["status"], withdrawn["last_error"]) == (
        "cancelled",
        "the caregiver opted out",
    )
    await day.at(noon + timedelta(minutes=50))  # after 12:45
    assert len(sms_to(fake_twilio, CAREGIVER_SMS)) == 1
