"""Schedules stored with dates outside 1900-01-01..9998-12-31 (migration 20260101016300).

A database migrated up to just before it holds what FHIR imports stored before the API refused
such dates: starts of -infinity (0001-01-01 as asyncpg writes it) and of the year 1850, ends of
infinity and 9999-12-31, a start of infinity. Migrated to the end, every date is in range, and
each schedule gives the reminders the planner gave it before (the same next dose, the same last
one, the same doses in a later window); then the database refuses such dates from any writer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from core.migrate import MIGRATIONS_DIR, migrate
from scheduler.planning_rules import recurrence_for
from scheduler.recurrence import Recurrence, next_occurrence, occurrences
from tests import factories
from tests.integration.partial_migrations import migrated_until

BEFORE = "20260101015900"
MIGRATION = "20260101016300_schedule_dates_in_range.sql"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TIMES = [time(8, 0), time(20, 0)]


def _doses_until(first: date, step: int, days: set[int] | None, last: date) -> int:
    """Doses of a schedule from ``first`` every ``step`` days (on ``days``) up to ``last``."""
    count, day = 0, first.toordinal()
    while day <= last.toordinal():
        if days is None or date.fromordinal(day).isoweekday() in days:
            count += len(TIMES)
        day += step
    return count


async def _schedule(conn: asyncpg.Connection, patient: uuid.UUID, **values: Any) -> uuid.UUID:
    _, row = await factories.create_medication(conn, patient, times=tuple(TIMES), schedule=values)
    schedule: uuid.UUID = row["id"]
    return schedule


async def _rules(conn: asyncpg.Connection) -> dict[uuid.UUID, Recurrence]:
    rows = await conn.fetch("select * from reminder_schedules")
    return {r["id"]: recurrence_for(r, "Europe/Madrid") for r in rows}


def _same_reminders(before: Recurrence, after: Recurrence) -> None:
    assert next_occurrence(after, NOW) == next_occurrence(before, NOW)
    window = (datetime(2029, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
    assert occurrences(after, *window) == occurrences(before, *window)


async def test_out_of_range_dates_are_repaired_keeping_the_reminders(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        patient = (await factories.create_patient(conn, None, contacts={}))["id"]
        forever = await _schedule(conn, patient, start_date=date.min, end_date=date.max)
        # Every 3 days from the year 1, counted to end in mid-2030.
        every_3 = await _schedule(
            conn,
            patient,
            start_date=date.min,
            every_n_days=3,
            max_count=_doses_until(date(1, 1, 1), 3, None, date(2030, 6, 1)),
        )
        # Mondays and Wednesdays of every 3rd day from 1850-03-07, counted to end in 2030.
        days = {1, 3}
        weekdays = await _schedule(
            conn,
            patient,
            start_date=date(1850, 3, 7),
            every_n_days=3,
            days_of_week=sorted(days),
            max_count=_doses_until(date(1850, 3, 7), 3, days, date(2030, 2, 1)),
        )
        used_up = await _schedule(conn, patient, start_date=date.min, max_count=10)
        never = await _schedule(conn, patient, start_date=date.max, end_date=date.max)
        no_end = await _schedule(
            conn, patient, start_date=date(2026, 1, 1), end_date=date(9999, 12, 31)
        )
        fine = await _schedule(
            conn, patient, start_date=date(2026, 1, 1), end_date=date(2027, 1, 1), max_count=9
        )
        before = await _rules(conn)

        applied = await migrate(conn, MIGRATIONS_DIR)

        assert MIGRATION in applied
        rows = {
            r["id"]: r
            for r in await conn.fetch(
                "select id, start_date, end_date, max_count, planned_until from reminder_schedules"
            )
        }
        after = await _rules(conn)
        for row in rows.values():
            assert date(1900, 1, 1) <= row["start_date"] <= date(9998, 12, 31)
            assert row["end_date"] is None or row["end_date"] <= date(9998, 12, 31)
        for schedule in (forever, every_3, weekdays, used_up, no_end, fine):
            _same_reminders(before[schedule], after[schedule])
        assert (rows[forever]["start_date"], rows[forever]["end_date"]) == (date(1900, 1, 1), None)
        # On the grid of every 3 days from 0001-01-01, the first date from 1900-01-01 on.
        assert (rows[every_3]["start_date"].toordinal() - 1) % 3 == 0
        assert date(1900, 1, 1) <= rows[every_3]["start_date"] < date(1900, 1, 4)
        assert next_occurrence(after[every_3], datetime(2030, 6, 2, tzinfo=UTC)) is None
        assert next_occurrence(after[weekdays], datetime(2030, 2, 2, tzinfo=UTC)) is None
        assert next_occurrence(after[used_up], NOW) is None
        assert rows[used_up]["end_date"] == date(1900, 1, 1)
        assert (rows[never]["start_date"], rows[never]["end_date"]) == (date(9998, 12, 31), None)
        assert rows[no_end]["end_date"] is None
        assert tuple(rows[fine])[1:4] == (date(2026, 1, 1), date(2027, 1, 1), 9)

        for dates in (
            {"start_date": date(1, 1, 1)},
            {"start_date": date.min},
            {"start_date": date(2026, 1, 1), "end_date": date(9999, 12, 31)},
            {"start_date": date(2026, 1, 1), "end_date": date.max},
        ):
            with pytest.raises(asyncpg.CheckViolationError) as refused:
                await _schedule(conn, patient, **dates)
            assert refused.value.constraint_name == "reminder_schedules_dates_in_range"
