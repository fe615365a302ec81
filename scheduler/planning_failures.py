"""Schedules the planner failed to plan: kept apart so that one cannot stop everyone's reminders.

The planner plans up to 500 schedules in one transaction. One that makes a statement fail (two
times inside one DST gap made the dose insert raise ``CardinalityViolationError``) once failed the
whole batch on every tick for two days, for every patient. Now (:mod:`scheduler.planner`):

- a failed batch is rolled back and planned again patient by patient, each in a savepoint, and a
  patient that fails schedule by schedule; the normal path stays one batch, one set of statements;
- each schedule that still fails is recorded in ``planner_failures`` (:func:`record_failure`)
  and named in the log by id with the error's class and SQLSTATE: never the error's message,
  which may quote a row's values (a name, a number); not what a concurrent transaction made
  fail (:func:`not_the_rows`: a deadlock, a patient erased meanwhile), nor a schedule deleted
  meanwhile, whose record's foreign key failed the whole tick;
- the batches of later ticks leave it out, and each tick tries it once on its own (it may have
  been fixed): planned, its row is deleted (:func:`forget_failures`) and that is logged too.

``medremind check`` and /metrics (``medremind_schedules_planning_failed``) show how many there
are; ``select * from planner_failures`` lists them for an operator.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from core.erased_rows import is_erased_refusal
from core.sql import query

__all__ = [
    "NOT_THE_SCHEDULES",
    "RETRIES_PER_TICK",
    "failed_to_retry",
    "forget_failures",
    "not_the_rows",
    "record_failure",
]

logger = logging.getLogger("scheduler.planner")

# Failed schedules tried again per tick (least recently tried first): bounds a tick's extra work
# however many there are; each has its turn within (failed / RETRIES_PER_TICK) ticks.
RETRIES_PER_TICK = 50

# Errors that are not the rows' fault: the connection or the server went away. Planning the rows
# apart would fail the same way and mark healthy schedules as failed: the tick fails instead.
NOT_THE_SCHEDULES: tuple[type[BaseException], ...] = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    OSError,
    TimeoutError,
)


# Errors a row meets because another transaction ran at the same moment, not because of what
# it holds: PostgreSQL broke a deadlock by failing this one (an erasure locks the patient, then
# their rows; the planner the other way round), or a serialization conflict.
CONCURRENT: tuple[type[BaseException], ...] = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


def not_the_rows(exc: BaseException) -> bool:
    """Whether a failure with ``exc`` is not the rows' own: a concurrent transaction's conflict
    (:data:`CONCURRENT`), or a row refused because its patient's erasure committed meanwhile
    (:func:`core.erased_rows.is_erased_refusal`). Nothing to record or retry apart: the next
    tick plans it as usual, or finds nothing left of the patient."""
    return isinstance(exc, CONCURRENT) or is_erased_refusal(exc)


async def record_failure(
    conn: asyncpg.Connection,
    schedule: asyncpg.Record,
    now: datetime,
    exc: BaseException,
) -> bool:
    """Record that ``schedule`` (a planner row) failed to plan at ``now`` with ``exc``; log it
    at its 1st, 2nd, 4th, 8th... failure in a row (not each minute) with ids only. False, with
    nothing recorded, when the failure was not the schedule's (:func:`not_the_rows`) or the
    schedule is gone."""
    if not_the_rows(exc):
        logger.info(
            "schedule left to the next tick",
            extra={"schedule_id": str(schedule["id"]), "error_class": type(exc).__name__},
        )
        return False
    sqlstate = getattr(exc, "sqlstate", None)
    failures = await conn.fetchval(
        query("planner", "record_planning_failure"),
        schedule["id"],
        now,
        type(exc).__name__,
        sqlstate,
    )
    if failures is None:
        logger.info(
            "schedule gone while planned",
            extra={"schedule_id": str(schedule["id"]), "error_class": type(exc).__name__},
        )
        return False
    if failures & (failures - 1) == 0:
        logger.error(
            "schedule planning failed",
            extra={
                "schedule_id": str(schedule["id"]),
                "patient_id": str(schedule["patient_id"]),
                "error_class": type(exc).__name__,
                "sqlstate": sqlstate,
                "failures": failures,
            },
        )
    return True


async def failed_to_retry(conn: asyncpg.Connection, now: datetime) -> list[UUID]:
    """The failed schedules the tick at ``now`` tries again (not those that failed in it),
    least recently tried first."""
    rows = await conn.fetch(query("planner", "failed_schedules_to_retry"), RETRIES_PER_TICK, now)
    return [r["schedule_id"] for r in rows]


async def forget_failures(conn: asyncpg.Connection, planned: Sequence[UUID]) -> None:
    """``planned`` were planned at last: delete their failures and say so."""
    if not planned:
        return
    for row in await conn.fetch(query("planner", "forget_planning_failures"), list(planned)):
        logger.info(
            "schedule planned again",
            extra={"schedule_id": str(row["schedule_id"]), "failures": row["failures"]},
        )
