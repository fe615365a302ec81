"""A pause with an end ends by itself: the planner's tick resumes the patient and tells them.

"/pause 3 days" and "/pause until 3/15" (bot/dialogs/account.py) store when the pause ends
(``patients.reminders_paused_until``, migration 20260101018260); a plain /pause stores none and
stays until /resume. Once the end has passed, each tick's :func:`end_ended_pauses` does exactly
what /resume does (:func:`scheduler.holds.resume_reminders`): the same
:func:`scheduler.pause_lift.lift_pause` (a reminder withheld from a dose still open comes back
once) and the same re-plan, ``replan`` (the planner's ``replan_patient``, passed in: the planner
imports this module), then queues one
``pause_ended`` notice in the patient's language on their preferred channel, at the end, or, in
their quiet hours, at their end or right before a reminder due earlier
(:mod:`scheduler.pause_notice`). A /resume before
the end clears it (so the tick finds nothing), a new /pause replaces it, and a second tick finds
the patient no longer paused: the resume and the notice happen once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time, timedelta
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.pause_lift import lift_pause
from scheduler.pause_notice import PAUSE_ENDED_PRIORITY, pause_notice_slot
from scheduler.planning_failures import NOT_THE_SCHEDULES
from scheduler.planning_stats import PlannerStats
from scheduler.step_failures import PAUSE_END, StepFailures

__all__ = ["PAUSE_ENDED_TTL", "PAUSE_END_BATCH", "end_ended_pauses", "end_pause"]

logger = logging.getLogger(__name__)

# Patients resumed per tick: each is a re-plan of their schedules; the rest wait a minute.
PAUSE_END_BATCH = 100
# "Reminders are back on" is worth sending for a day: a pause that ends at midnight has it held
# by the patient's quiet hours (a system notice is deferrable, scheduler/quiet_hours.py) until
# the morning, or a reminder before it (scheduler/pause_notice.py); later, the reminders
# themselves say it.
PAUSE_ENDED_TTL = timedelta(hours=24)


# Re-plans one patient from an instant, in the caller's transaction.
Replan = Callable[[asyncpg.Connection, UUID, datetime], Awaitable[object]]


async def end_ended_pauses(
    conn: asyncpg.Connection,
    now: datetime,
    replan: Replan,
    default_quiet: tuple[time, time],
    failures: StepFailures,
    *,
    patients: Sequence[UUID] | None = None,
) -> PlannerStats:
    """Resume every patient whose pause ended by ``now`` (of ``patients``, or all but those
    ``failures`` leaves out) and queue their one notice, in the caller's transaction, each patient
    in a savepoint: one that fails is recorded in ``failures`` (left out of the next ticks'
    batches, tried alone: :mod:`scheduler.step_failures`), the others go on. ``default_quiet``:
    the quiet window of a patient with none of their own and no clinic's (the service's)."""
    stats = PlannerStats()
    rows = await conn.fetch(
        query("planner", "ended_pauses"),
        now,
        PAUSE_END_BATCH,
        None if patients is None else list(patients),
        failures.skip(PAUSE_END),
    )
    for row in rows:
        try:
            await end_pause(conn, row, now, replan, default_quiet)
        except NOT_THE_SCHEDULES:
            raise
        except Exception as exc:  # bad data or a bug: this patient's, not everyone's
            # Never logger.exception: a traceback's message may quote the row's values.
            recorded = await failures.record(conn, PAUSE_END, row["id"], row["id"], exc)
            stats += PlannerStats(errors=int(recorded))
            continue
        stats += PlannerStats(pauses_ended=1)
    return stats


async def end_pause(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    now: datetime,
    replan: Replan,
    default_quiet: tuple[time, time],
) -> None:
    """Resume one patient (a row of ``ended_pauses``) and queue their notice, in a savepoint
    (rolled back, and raised, if anything fails)."""
    async with conn.transaction():
        await lift_pause(conn, row["id"], now)
        await replan(conn, row["id"], now)
        slot = await pause_notice_slot(conn, row, now, PAUSE_ENDED_PRIORITY, default_quiet)
        await conn.execute(
            query("planner", "tell_pause_ended"),
            row["id"],
            slot.at,
            row["reminders_paused_until"],
            PAUSE_ENDED_TTL,
            slot.priority,
            slot.urgent,
        )
