"""A schedule the planner cannot plan (its patient's zone is ``Etc/Unknown``) is named in the
worker's log once, not at every tick: a WARNING each minute for each such schedule buried the
log (medremind_patients_timezone_unknown and medremind check count those patients)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_an_unplannable_schedule_is_said_once(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, org["id"], timezone="Etc/Unknown")
    _, schedule = await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    with caplog.at_level(logging.WARNING, logger="scheduler.planner"):
        for hours in range(0, 72, 6):  # ticks across three days: the schedule is read again
            await run_planner_tick(db.pool, NOW + timedelta(hours=hours), settings)
    said = [r for r in caplog.records if r.getMessage() == "schedule not plannable"]
    assert [r.schedule_id for r in said] == [str(schedule["id"])]  # type: ignore[attr-defined]
