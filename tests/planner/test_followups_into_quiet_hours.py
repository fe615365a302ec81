"""A follow-up planned before the patient's quiet window, sent late, would go inside it: called
off instead. The planner plans no follow-up inside the window (the bot says "Follow-ups of 9:52
PM stop at 10:30 PM, when your quiet hours begin"), but the dispatcher sent one that a worker
reached late, at 10:33 PM (found by a random run of
tests/bot/test_patients_across_zones_stateful.py: St John's, quiet hours 22:30-01:30). A
follow-up the planner placed inside the window on purpose (its reminder was due there: the
patient chose that time) still goes, late or not.

Real planner and dispatcher on real Postgres, a recording sender, the clock injected."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from core.templating import TemplateRenderer
from platforms.base import Channel
from scheduler.delivery_gate import LATE_INTO_QUIET_REASON
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests import factories
from tests.dispatch.recording import RecordingSender
from tests.planner.conftest import mark_sent, messages

ZONE = ZoneInfo("America/St_Johns")  # UTC-02:30 in summer: half-hour offsets


def local(hour: int, minute: int) -> datetime:
    return datetime(2027, 6, 10, hour, minute, tzinfo=ZONE)


async def _reminded(
    db: Database, settings: Settings, conn: asyncpg.Connection, org_id: UUID, at: time
) -> tuple[UUID, list[datetime]]:
    """A St John's patient with quiet hours 22:30-01:30, follow-ups every 15 minutes, one dose
    at ``at`` reminded on time: the patient and their planned follow-ups' times."""
    assert db.pool is not None
    patient = await factories.create_patient(
        conn,
        org_id,
        timezone="America/St_Johns",
        nag_interval_minutes=15,
        nag_max=3,
        quiet_start=time(22, 30),
        quiet_end=time(1, 30),
    )
    await factories.create_medication(conn, patient["id"], times=(at,))
    due = datetime.combine(local(0, 0).date(), at, tzinfo=ZONE)
    await run_planner_tick(db.pool, due - timedelta(hours=1), settings)
    reminders = await messages(conn, patient["id"], "medication_reminder")
    (reminder,) = [r for r in reminders if r["scheduled_time"] == due]
    await mark_sent(conn, reminder["id"], due)
    await run_planner_tick(db.pool, due + timedelta(minutes=1), settings)
    followups = await messages(conn, patient["id"], "dose_followup")
    planned = [r["scheduled_time"] for r in followups]
    return patient["id"], planned


async def _worker_at(db: Database, now: datetime) -> RecordingSender:
    assert db.pool is not None
    sender = RecordingSender(Channel.TELEGRAM)
    config = DispatcherConfig(worker_id="late", platform_rates={}, recipient_rates={})
    await Dispatcher(
        db.pool, {Channel.TELEGRAM: sender}, TemplateRenderer(), lambda: now, config
    ).run_once()
    return sender


@pytest.mark.parametrize(("back", "sent"), [((22, 25), True), ((22, 33), False)])
async def test_a_follow_up_reached_late_inside_quiet_hours_is_called_off(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    back: tuple[int, int],
    sent: bool,
) -> None:
    patient_id, planned = await _reminded(db, settings, admin_conn, org["id"], time(21, 52))
    # 22:07 and 22:22; 22:37 would be inside the window and is not planned.
    assert planned == [local(22, 7), local(22, 22)]
    sender = await _worker_at(db, local(*back))
    rows = await messages(admin_conn, patient_id, "dose_followup", None)
    last = rows[-1]
    if sent:  # 22:25, before the window: the newest follow-up goes (the one before expired)
        assert [r["status"] for r in rows] == ["expired", "sent"]
        assert len(sender.sends) == 1
    else:  # 22:33, inside the window: nothing goes, and the row says why
        assert [r["status"] for r in rows] == ["expired", "cancelled"]
        assert last["last_error"] == LATE_INTO_QUIET_REASON
        assert sender.sends == []


async def test_follow_ups_of_a_reminder_chosen_inside_quiet_hours_still_go_late(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org: asyncpg.Record
) -> None:
    patient_id, planned = await _reminded(db, settings, admin_conn, org["id"], time(23, 40))
    assert planned[0] == local(23, 55)  # inside the window: the patient chose 23:40
    sender = await _worker_at(db, local(23, 58))
    rows = await messages(admin_conn, patient_id, "dose_followup", None)
    assert rows[0]["status"] == "sent"
    assert len(sender.sends) == 1
