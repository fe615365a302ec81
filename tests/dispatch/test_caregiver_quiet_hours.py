"""Caregiver alerts wait out quiet hours in the caregiver's timezone, not the patient's.

Real PostgreSQL, the real claim query and dispatcher, recording senders. Zones on 2026-03-04
(no DST change near it): Mexico City is UTC-6, Madrid UTC+1, Tokyo UTC+9.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from platforms.base import Channel
from scheduler.claims import CLAIM_COLUMNS
from tests import factories
from tests.dispatch.conftest import Clock
from tests.dispatch.recording import RecordingSender
from tests.dispatch.test_dispatcher import MakeDispatcher, _row

# The clinic's default window, the one a caregiver's alert waits out.
NIGHT = {"default_quiet_start": time(21, 0), "default_quiet_end": time(8, 0)}


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 4, hour, minute, tzinfo=UTC)


async def _caregiver(
    conn: asyncpg.Connection, patient_id: UUID, timezone: str | None, address: str
) -> UUID:
    caregiver_id: UUID = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address, timezone) "
        "values ($1, 'Lucía', 'sms', $2, $3) returning id",
        patient_id,
        address,
        timezone,
    )
    return caregiver_id


async def _alert(
    conn: asyncpg.Connection, patient_id: UUID, caregiver_id: UUID, at: datetime, **kw: Any
) -> UUID:
    """A missed-dose caregiver alert due at ``at`` (as the planner writes one)."""
    row = await factories.create_message(
        conn,
        patient_id,
        scheduled_time=at,
        kind="missed_dose_caregiver",
        caregiver_id=caregiver_id,
        platform="sms",
        allow_fallback=False,
        payload={"due_at": at.isoformat()},
        message_content=None,
        **kw,
    )
    message_id: UUID = row["id"]
    return message_id


def _dispatcher(make_dispatcher: MakeDispatcher, **config: Any) -> tuple[Any, RecordingSender]:
    telegram, sms = RecordingSender(Channel.TELEGRAM), RecordingSender(Channel.SMS)
    dispatcher, _ = make_dispatcher({Channel.TELEGRAM: telegram, Channel.SMS: sms}, **config)
    return dispatcher, sms


def test_the_claim_carries_the_caregivers_timezone() -> None:
    # The claim is built positionally: the query and the dataclass must name it at one place.
    assert "caregiver_timezone" in CLAIM_COLUMNS
    assert CLAIM_COLUMNS.index("caregiver_timezone") == CLAIM_COLUMNS.index("caregiver_name") + 1


async def test_alert_waits_for_morning_in_the_caregivers_zone_not_the_patients(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    # 02:00 UTC: 20:00 in Mexico City (the patient is awake), 03:00 in Madrid (the daughter is not).
    clock.now = _at(2)
    org = await factories.create_organization(admin_conn, **NIGHT)
    patient = await factories.create_patient(
        admin_conn, org["id"], timezone="America/Mexico_City", contacts={"telegram": "5101"}
    )
    madrid = await _caregiver(admin_conn, patient["id"], "Europe/Madrid", "+34600123456")
    alert = await _alert(admin_conn, patient["id"], madrid, clock.now)
    to_patient = await factories.create_message(admin_conn, patient["id"], scheduled_time=clock.now)
    dispatcher, sms = _dispatcher(make_dispatcher)

    assert await dispatcher.run_once() == 2

    row = await _row(admin_conn, alert)
    assert row["status"] == "pending", row["last_error"]
    assert row["last_error"] == "deferred to the end of quiet hours"
    assert row["scheduled_time"] == _at(7)  # 08:00 in Madrid; 08:00 in Mexico City would be 14:00
    assert row["attempts"] == 0
    assert not sms.sends
    # The patient's own message is outside the window in the patient's zone: sent now.
    assert (await _row(admin_conn, to_patient["id"]))["status"] == "sent"

    clock.now = _at(7)
    assert await dispatcher.run_once() == 1
    row = await _row(admin_conn, alert)
    assert row["status"] == "sent", row["last_error"]
    assert [address for address, _ in sms.sends] == ["+34600123456"]


async def test_a_caregiver_without_a_zone_follows_the_patients_zone(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    # 04:00 UTC: 22:00 in Mexico City and 05:00 in Madrid, both inside 21:00-08:00.
    clock.now = _at(4)
    org = await factories.create_organization(admin_conn, **NIGHT)
    patient = await factories.create_patient(admin_conn, org["id"], timezone="America/Mexico_City")
    same = await _caregiver(admin_conn, patient["id"], None, "+15550101")
    madrid = await _caregiver(admin_conn, patient["id"], "Europe/Madrid", "+34600123457")
    same_alert = await _alert(admin_conn, patient["id"], same, clock.now)
    madrid_alert = await _alert(admin_conn, patient["id"], madrid, clock.now)
    dispatcher, sms = _dispatcher(make_dispatcher)

    assert await dispatcher.run_once() == 2

    # Null: 08:00 in the patient's Mexico City = 14:00 UTC.
    assert (await _row(admin_conn, same_alert))["scheduled_time"] == _at(14)
    assert (await _row(admin_conn, madrid_alert))["scheduled_time"] == _at(7)
    assert not sms.sends


async def test_an_urgent_caregiver_alert_is_never_deferred(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    clock.now = _at(2)  # 03:00 in Madrid
    org = await factories.create_organization(admin_conn, **NIGHT)
    patient = await factories.create_patient(admin_conn, org["id"], timezone="America/Mexico_City")
    madrid = await _caregiver(admin_conn, patient["id"], "Europe/Madrid", "+34600123458")
    alert = await _alert(admin_conn, patient["id"], madrid, clock.now, urgent=True)
    dispatcher, sms = _dispatcher(make_dispatcher)

    await dispatcher.run_once()

    row = await _row(admin_conn, alert)
    assert row["status"] == "sent", row["last_error"]
    assert row["scheduled_time"] == _at(2)
    assert [address for address, _ in sms.sends] == ["+34600123458"]


async def test_the_patients_own_quiet_hours_do_not_hold_a_caregiver_alert(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    # 16:00 UTC: 10:00 in Mexico City, inside the patient's own 09:00-12:00; 17:00 in Madrid.
    clock.now = _at(16)
    org = await factories.create_organization(admin_conn, **NIGHT)
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        timezone="America/Mexico_City",
        quiet_start=time(9, 0),
        quiet_end=time(12, 0),
        contacts={"telegram": "5102"},
    )
    same = await _caregiver(admin_conn, patient["id"], None, "+15550102")
    madrid = await _caregiver(admin_conn, patient["id"], "Europe/Madrid", "+34600123459")
    alerts = [
        await _alert(admin_conn, patient["id"], caregiver, clock.now)
        for caregiver in (same, madrid)
    ]
    to_patient = await factories.create_message(admin_conn, patient["id"], scheduled_time=clock.now)
    dispatcher, sms = _dispatcher(make_dispatcher)

    assert await dispatcher.run_once() == 3

    for alert in alerts:
        row = await _row(admin_conn, alert)
        assert row["status"] == "sent", row["last_error"]
    assert sorted(address for address, _ in sms.sends) == ["+15550102", "+34600123459"]
    # The patient's own message does wait for the end of the patient's window (12:00 = 18:00 UTC).
    assert (await _row(admin_conn, to_patient["id"]))["scheduled_time"] == _at(18)


async def test_without_a_clinic_the_service_default_window_applies_in_the_caregivers_zone(
    admin_conn: asyncpg.Connection, make_dispatcher: MakeDispatcher, clock: Clock
) -> None:
    # 20:00 UTC: 14:00 in Mexico City, 05:00 next day in Tokyo: inside a 22:00-06:00 window there.
    clock.now = _at(20)
    patient = await factories.create_patient(admin_conn, timezone="America/Mexico_City")
    tokyo = await _caregiver(admin_conn, patient["id"], "Asia/Tokyo", "+81312345678")
    alert = await _alert(admin_conn, patient["id"], tokyo, clock.now)
    dispatcher, sms = _dispatcher(make_dispatcher, quiet_start=time(22, 0), quiet_end=time(6, 0))

    await dispatcher.run_once()

    row = await _row(admin_conn, alert)
    assert row["status"] == "pending", row["last_error"]
    assert row["scheduled_time"] == _at(21)  # 06:00 in Tokyo
    assert not sms.sends


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "europe/madrid", "UTC+3", "", "localtime"])
async def test_the_schema_rejects_a_caregiver_zone_that_is_not_iana(
    admin_conn: asyncpg.Connection, zone: str
) -> None:
    patient = await factories.create_patient(admin_conn)
    with pytest.raises(asyncpg.CheckViolationError, match="caregivers_timezone_iana"):
        await _caregiver(admin_conn, patient["id"], zone, "+15550103")
    ok = await _caregiver(admin_conn, patient["id"], "Europe/Madrid", "+15550104")
    with pytest.raises(asyncpg.CheckViolationError, match="caregivers_timezone_iana"):
        await admin_conn.execute("update caregivers set timezone = $2 where id = $1", ok, zone)
    await admin_conn.execute("update caregivers set timezone = null where id = $1", ok)
    # Row level security on caregivers is still on after the migration.
    assert await admin_conn.fetchval(
        "select relrowsecurity from pg_class where oid = 'public.caregivers'::regclass"
    )
