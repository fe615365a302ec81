"""One schedule whose planning fails does not stop everyone's reminders (planning_failures).

A schedule with two times inside one DST gap once made the batch's dose insert raise on every
tick for two days, for every patient. Here a trigger refuses one patient's dose rows (any
statement a row makes fail, as a future bug or bad data would): the tick plans the other
patients, records the schedule and names it in the log by id only, leaves it out of its batches
but tries it each tick, and plans it at the first tick after the fault is gone. The bot's
re-plan of that patient (``replan_patient``) does not fail either; /metrics and ``medremind
check`` count it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest
from prometheus_client import REGISTRY

from core.db import Database
from core.logs import JsonFormatter, RedactionFilter
from core.settings import Settings
from medremind.check import planner_lines
from medremind.web.metrics import refresh_backlog
from scheduler.planner import replan_patient, run_planner_tick
from tests import factories
from tests.log_probe import SENTINELS
from tests.planner.conftest import messages

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
PHONE = "+14155550187"

REFUSE_ONE_SCHEDULE = """
create function public.test_refuse_doses() returns trigger language plpgsql as $$
begin
  raise exception 'refused by the test' using errcode = 'check_violation';
end $$;
create trigger test_refuse_doses before insert on dose_events
  for each row when (new.schedule_id = '{schedule_id}')
  execute function public.test_refuse_doses();
"""


async def test_one_failing_schedule_leaves_the_others_planned_and_is_retried(
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert db.pool is not None
    healthy = [await factories.create_patient(admin_conn, org["id"]) for _ in range(3)]
    for patient in healthy:
        await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    bad = await factories.create_patient(
        admin_conn, org["id"], display_name="Quendolyn Probe", contacts={"sms": PHONE}
    )
    _, schedule = await factories.create_medication(
        admin_conn, bad["id"], times=(time(8, 0),), name="Warfarin"
    )
    await admin_conn.execute(REFUSE_ONE_SCHEDULE.format(schedule_id=schedule["id"]))

    with caplog.at_level(logging.INFO, logger="scheduler.planner"):
        first = await run_planner_tick(db.pool, NOW, settings)
        # The healthy patients' reminders, as if the bad schedule did not exist.
        for patient in healthy:
            assert len(await messages(admin_conn, patient["id"], "medication_reminder")) == 2
        assert await messages(admin_conn, bad["id"], "medication_reminder") == []
        assert (first.schedules_planned, first.schedules_failed) == (3, 1)
        failure = await admin_conn.fetchrow("select * from planner_failures")
        assert (failure["schedule_id"], failure["failures"]) == (schedule["id"], 1)
        assert (failure["error_class"], failure["sqlstate"]) == ("CheckViolationError", "23514")

        # Still broken: the next tick tries it alone; the healthy ones are not planned again.
        second = await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
        assert (second.schedules_planned, second.schedules_failed) == (0, 1)
        assert await admin_conn.fetchval("select failures from planner_failures") == 2
        # The bot's re-plan of that patient after a dialog change answers, and records it.
        async with db.pool.acquire() as conn:
            replanned = await replan_patient(conn, bad["id"], NOW + timedelta(minutes=2))
        assert replanned.schedules_failed == 1
        # What the operators see: /metrics' gauge (its alert pages) and `medremind check`.
        await refresh_backlog(db.pool)
        assert REGISTRY.get_sample_value("medremind_schedules_planning_failed") == 1
        assert (await planner_lines(settings))[0].startswith("Planner: FAILING - 1 schedule(s)")

        # Fixed: the next tick plans it and forgets the failure.
        await admin_conn.execute("drop trigger test_refuse_doses on dose_events")
        third = await run_planner_tick(db.pool, NOW + timedelta(minutes=3), settings)
        assert third.schedules_failed == 0
        assert len(await messages(admin_conn, bad["id"], "medication_reminder")) == 2
        assert await admin_conn.fetchval("select count(*) from planner_failures") == 0
        assert (await planner_lines(settings))[0] == "Planner: every schedule plans"

    said = [(r.getMessage(), getattr(r, "schedule_id", None)) for r in caplog.records]
    assert said.count(("schedule planning failed", str(schedule["id"]))) == 2  # 1st, 2nd failure
    assert ("schedule planned again", str(schedule["id"])) in said
    # As production writes them: ids, never the name, the number, the medicine or a text.
    formatter, redaction = JsonFormatter(), RedactionFilter()
    lines = [formatter.format(r) for r in caplog.records if redaction.filter(r)]
    leaked = [line for line in lines if any(s in line for s in (*SENTINELS, PHONE, "refused"))]
    assert leaked == []
