"""Patients (or appointments) a planner step failed for: kept apart so that one cannot stop a
step for everyone.

The planner tick's steps after materialization (pause ends, follow-ups and the missed mark,
the caregivers' unreachable notices, refills, appointment sync) each ran as one statement or one
loop over every clinic's rows: one patient whose zone no zone database loads (``Etc/Unknown``,
stored before the API refused it) made the step raise on every tick, and no dose of any clinic
was marked missed, no caregiver alerted, no refill reminded, no pause ended
(tests/planner/test_tick_steps_isolated.py). :mod:`scheduler.planning_steps` finds the failing
patient; this module keeps its record, as :mod:`scheduler.planning_failures` does for schedules:

- each unit that fails is one row of ``planner_step_failures`` (:meth:`StepFailures.record`),
  named in the log by id with the error's class and SQLSTATE, at its 1st, 2nd, 4th, 8th...
  failure in a row: never the error's message, which may quote a row's values; not what a
  concurrent transaction made fail (a deadlock, the patient erased meanwhile:
  :func:`scheduler.planning_failures.not_the_rows`), nor a patient deleted meanwhile, whose
  record's foreign key failed the whole tick;
- the step's bulk pass of later ticks leaves it out (:meth:`StepFailures.skip`), and each tick
  tries a bounded number of them alone (:data:`RETRIES_PER_TICK`); done, the row is deleted.

``medremind check`` and /metrics (``medremind_planner_steps_failed``) show how many there are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.planning_failures import not_the_rows

__all__ = [
    "APPOINTMENTS",
    "FOLLOWUPS",
    "PAUSE_END",
    "REFILLS",
    "RETRIES_PER_TICK",
    "STEPS",
    "UNREACHABLE_NOTICES",
    "FailedUnit",
    "StepFailures",
]

logger = logging.getLogger("scheduler.planner")

# The steps, as planner_step_failures.step names them (its check constraint lists the same).
PAUSE_END = "pause_end"
FOLLOWUPS = "followups"
UNREACHABLE_NOTICES = "unreachable_notices"
REFILLS = "refills"
APPOINTMENTS = "appointments"  # the unit is the appointment, not the patient
STEPS = (PAUSE_END, FOLLOWUPS, UNREACHABLE_NOTICES, REFILLS, APPOINTMENTS)

# Failed units tried again per tick, least recently tried first: bounds a tick's extra work
# however many there are; each has its turn within (failed / RETRIES_PER_TICK) ticks.
RETRIES_PER_TICK = 50


class FailedUnit(NamedTuple):
    """One unit a step failed for: the patient's id (the appointment's for appointments)."""

    step: str
    unit_id: UUID
    patient_id: UUID


class StepFailures:
    """The units one tick leaves out of each step's bulk pass, and the failures it records."""

    def __init__(self, now: datetime, left_out: Sequence[tuple[str, UUID]] = ()) -> None:
        self._now = now
        self._left_out: dict[str, list[UUID]] = {}
        for step, unit_id in left_out:
            self._left_out.setdefault(step, []).append(unit_id)

    @classmethod
    async def load(cls, conn: asyncpg.Connection, now: datetime) -> StepFailures:
        """The failures recorded before the tick at ``now`` (one small read)."""
        rows = await conn.fetch(query("planner", "failed_steps"))
        return cls(now, [(r["step"], r["unit_id"]) for r in rows])

    def skip(self, step: str) -> list[UUID]:
        """The units ``step``'s bulk pass leaves out this tick."""
        return self._left_out.get(step, [])

    async def record(
        self,
        conn: asyncpg.Connection,
        step: str,
        unit_id: UUID,
        patient_id: UUID,
        exc: BaseException,
    ) -> bool:
        """Record that ``step`` failed for ``unit_id`` with ``exc`` (call after the savepoint
        that failed was rolled back); later passes of this tick leave it out too. False, with
        nothing recorded, when the failure was not the unit's own (:func:`not_the_rows`) or
        its patient is gone: the next tick does it as usual, or finds nothing to do."""
        self._left_out.setdefault(step, []).append(unit_id)
        extra = {"step": step, "unit_id": str(unit_id), "error_class": type(exc).__name__}
        if not_the_rows(exc):
            logger.info("planner step left to the next tick", extra=extra)
            return False
        sqlstate = getattr(exc, "sqlstate", None)
        failures = await conn.fetchval(
            query("planner", "record_step_failure"),
            step,
            unit_id,
            patient_id,
            self._now,
            type(exc).__name__,
            sqlstate,
        )
        if failures is None:
            logger.info("planner step's patient gone", extra=extra)
            return False
        if failures & (failures - 1) == 0:
            logger.error(
                "planner step failed",
                extra={
                    "step": step,
                    "unit_id": str(unit_id),
                    "patient_id": str(patient_id),
                    "error_class": type(exc).__name__,
                    "sqlstate": sqlstate,
                    "failures": failures,
                },
            )
        return True

    async def to_retry(self, conn: asyncpg.Connection) -> list[FailedUnit]:
        """The units this tick tries again alone (not those that failed in it)."""
        rows = await conn.fetch(
            query("planner", "failed_steps_to_retry"), RETRIES_PER_TICK, self._now
        )
        return [FailedUnit(r["step"], r["unit_id"], r["patient_id"]) for r in rows]

    async def forget(self, conn: asyncpg.Connection, unit: FailedUnit) -> None:
        """``unit`` was done at last: delete its failure and say so."""
        failures = await conn.fetchval(
            query("planner", "forget_step_failure"), unit.step, unit.unit_id
        )
        if failures is not None:
            logger.info(
                "planner step done again",
                extra={"step": unit.step, "unit_id": str(unit.unit_id), "failures": failures},
            )
