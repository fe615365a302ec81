"""A dose whose reminder the pause withheld (queued at /pause, or held back at its send) and whose
missed mark passed before /resume: missed, but no caregiver is alerted as if the patient had
ignored a reminder they never got, and the reminder does not come late. Real Postgres, the real
pause and resume (scheduler/holds.py) and planner; 08:00 dose, defaults of 15 min x 3 follow-ups
(missed mark 09:00), an SMS caregiver alerted at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from scheduler.holds import pause_reminders, resume_reminders
from scheduler.planner import run_planner_tick
from tests import factories
from tests.planner.conftest import messages

DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def patient(db: Database, settings: Settings, admin_conn: asyncpg.Connection, org):
    """A patient with a caregiver and an 08:00 dose planned at 07:00, paused at 08:00 with the
    dose's reminder still queued."""
    patient = await factories.create_patient(admin_conn, org["id"])
    await admin_conn.execute(
        """insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)
           values ($1, 'Sam', 'sms', '+15555550100', 0)""",
        patient["id"],
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await run_planner_tick(db.pool, DUE - timedelta(hours=1), settings)
    assert db.pool is not None
    async with db.pool.acquire() as conn:
        await pause_reminders(conn, patient["id"], DUE)
    return patient


async def _dose(conn: asyncpg.Connection, patient_id) -> str:
    return await conn.fetchval(
        "select status from dose_events where patient_id = $1 and due_at = $2", patient_id, DUE
    )


@pytest.mark.parametrize("tick_while_paused", [True, False])
async def test_missed_while_paused_without_a_reminder_alerts_nobody(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    patient,
    tick_while_paused: bool,
) -> None:
    """With a planner tick past the mark while paused, or none before the resume (the resume's
    own pass finds the dose past its mark)."""
    pid = patient["id"]
    if tick_while_paused:
        await run_planner_tick(db.pool, DUE + timedelta(minutes=61), settings)
    resumed = DUE + timedelta(minutes=90)
    assert db.pool is not None
    async with db.pool.acquire() as conn:
        await resume_reminders(conn, pid, resumed)
    after = await run_planner_tick(db.pool, resumed + timedelta(minutes=1), settings)
    assert await _dose(admin_conn, pid) == "missed"
    assert after.caregiver_alerts == 0
    assert await messages(admin_conn, pid, "missed_dose_caregiver", None) == []
    reminders = await messages(admin_conn, pid, "medication_reminder", None)
    assert [r["status"] for r in reminders if r["scheduled_time"] <= DUE] == ["cancelled"]


async def test_resumed_before_the_mark_the_reminder_comes_and_a_miss_alerts(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, patient
) -> None:
    """Resumed at 08:20: the withheld reminder is pending again at 08:20 (the same row); once it
    went out, the dose is nagged and, unanswered, missed with the caregiver alerted as usual."""
    pid = patient["id"]
    resumed = DUE + timedelta(minutes=20)
    assert db.pool is not None
    async with db.pool.acquire() as conn:
        await resume_reminders(conn, pid, resumed)
    (reminder,) = [
        r
        for r in await messages(admin_conn, pid, "medication_reminder", None)
        if r["dose_event_id"] is not None
        and r["idempotency_key"].startswith("dose:")
        and r["scheduled_time"] <= resumed
    ]
    assert (reminder["status"], reminder["scheduled_time"]) == ("pending", resumed)
    assert reminder["expires_at"] == DUE + timedelta(minutes=60)
    await admin_conn.execute(
        "update scheduled_messages set status = 'sent', sent_at = $2 where id = $1",
        reminder["id"],
        resumed,
    )
    nagged = await run_planner_tick(db.pool, resumed + timedelta(minutes=1), settings)
    assert nagged.followups_created == 3
    missed = await run_planner_tick(db.pool, resumed + timedelta(minutes=61), settings)
    assert (missed.doses_missed, missed.caregiver_alerts) == (1, 1)
