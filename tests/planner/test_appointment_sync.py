"""Appointments written straight into the table (as the dashboard does, under RLS) are planned,
re-planned and withdrawn by the planner tick, exactly as the API's calls would do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from scheduler import appointments
from scheduler.planner import run_planner_tick
from tests import factories
from tests.planner.conftest import messages

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STARTS = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)


@pytest.fixture
async def booked(admin_conn: asyncpg.Connection, org) -> asyncpg.Record:
    patient = await factories.create_patient(admin_conn, org["id"])
    return await admin_conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)"
        " returning *",
        org["id"],
        patient["id"],
        STARTS,
    )


async def _tick(db: Database, settings: Settings, now: datetime = NOW) -> int:
    assert db.pool is not None
    stats = await run_planner_tick(db.pool, now, settings)
    return stats.appointments_synced


async def test_a_booking_made_in_the_table_is_confirmed_and_reminded(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, booked
) -> None:
    assert await _tick(db, settings) == 1
    patient_id = booked["patient_id"]
    assert len(await messages(admin_conn, patient_id, "appointment_confirmation")) == 1
    reminders = await messages(admin_conn, patient_id, "appointment_reminder")
    assert [r["scheduled_time"] for r in reminders] == [
        STARTS - timedelta(hours=24),
        STARTS - timedelta(hours=2),
    ]
    # Nothing changed since: the next tick leaves it alone.
    assert await _tick(db, settings, NOW + timedelta(minutes=1)) == 0
    assert len(await messages(admin_conn, patient_id, "appointment_reminder")) == 2


async def test_a_move_made_in_the_table_sends_a_notice_and_new_reminders(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, booked
) -> None:
    await _tick(db, settings)
    moved = STARTS + timedelta(days=1)
    await admin_conn.execute(
        "update appointments set starts_at = $2 where id = $1", booked["id"], moved
    )
    assert await _tick(db, settings, NOW + timedelta(minutes=5)) == 1
    patient_id = booked["patient_id"]
    (notice,) = await messages(admin_conn, patient_id, "appointment_rescheduled")
    assert notice["payload"]["previous_starts_at"] == STARTS.isoformat()
    reminders = await messages(admin_conn, patient_id, "appointment_reminder")
    assert [r["scheduled_time"] for r in reminders] == [
        moved - timedelta(hours=24),
        moved - timedelta(hours=2),
    ]
    old = await messages(admin_conn, patient_id, "appointment_reminder", status="cancelled")
    assert len(old) == 2


async def test_a_cancellation_made_in_the_table_withdraws_and_notifies(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, booked
) -> None:
    await _tick(db, settings)
    await admin_conn.execute(
        "update appointments set status = 'cancelled' where id = $1", booked["id"]
    )
    assert await _tick(db, settings, NOW + timedelta(minutes=5)) == 1
    patient_id = booked["patient_id"]
    assert await messages(admin_conn, patient_id, "appointment_reminder") == []
    assert len(await messages(admin_conn, patient_id, "appointment_cancelled")) == 1
    assert await _tick(db, settings, NOW + timedelta(minutes=6)) == 0


async def test_appointments_that_fail_to_sync_do_not_starve_the_later_ones(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tick syncs the SYNC_BATCH earliest appointments. One that fails stayed out of sync and
    first in that order: with a batch of them (200) every later booking of every clinic waited
    for ever. Here the batch is one and the failing booking is the earliest: a patient whose zone
    was stored as 'Etc/Unknown' before it was refused (migration 20260101018710)."""
    monkeypatch.setattr(appointments, "SYNC_BATCH", 1)
    lost = await factories.create_patient(admin_conn, org["id"])
    await admin_conn.execute(
        "update patients set timezone = 'Etc/Unknown' where id = $1", lost["id"]
    )
    later = await factories.create_patient(admin_conn, org["id"])
    for patient, starts in ((lost, STARTS), (later, STARTS + timedelta(days=1))):
        await admin_conn.execute(
            "insert into appointments (organization_id, patient_id, starts_at) values ($1, $2, $3)",
            org["id"],
            patient["id"],
            starts,
        )
    assert await _tick(db, settings) == 0  # the earliest failed, and was recorded
    failed = await admin_conn.fetchrow("select step, patient_id from planner_step_failures")
    assert (failed["step"], failed["patient_id"]) == ("appointments", lost["id"])
    assert await _tick(db, settings, NOW + timedelta(minutes=1)) == 1  # the next one's turn
    assert len(await messages(admin_conn, later["id"], "appointment_confirmation")) == 1
