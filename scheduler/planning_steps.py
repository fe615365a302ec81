"""The planner tick's steps after materialization, each isolated per patient.

Follow-ups with the missed mark and caregiver alerts (:mod:`scheduler.planning_followups`), the
caregivers' unreachable notices (:mod:`scheduler.planning_unreachable`) and refills
(:mod:`scheduler.planning_refills`) are each a few statements over every clinic's patients: the
cheap way, kept for the common case. They ran in one transaction with the release of quiet-hours
deferrals and appointment sync, so one patient's bad row (a zone no zone database loads, written
by the dashboard; a statement a row makes fail) rolled them all back on every tick, for every
clinic, for ever. Now (:func:`run_steps`):

- each step runs in a savepoint, its bulk pass leaving out the patients it failed for before;
- a step that fails is run again on halves of the patients it would have touched, each half in a
  savepoint, down to single patients (a few passes per bad patient: ``2 log2 n``); each patient
  that fails alone is recorded (:mod:`scheduler.step_failures`) and every other is done this tick;
- pause ends and appointments are a savepoint per patient or row (:mod:`scheduler.pause_ends`,
  :mod:`scheduler.appointments`): they record their failures the same way, and their batches
  leave the recorded ones out (before, 200 failing appointments at the head of the order
  starved every later one, tick after tick);
- the release of quiet-hours deferrals runs in a savepoint of its own;
- each tick tries a bounded number of recorded failures alone (:func:`retry_failed_steps`): done,
  a failure is forgotten; failing again, it is counted again.

Errors that are not the rows' fault (the connection lost) are raised: the tick fails as before.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.appointments import sync_appointment, sync_appointments
from scheduler.pause_ends import Replan, end_pause
from scheduler.planning_failures import NOT_THE_SCHEDULES
from scheduler.planning_followups import plan_followups
from scheduler.planning_refills import plan_refills
from scheduler.planning_stats import PlannerStats
from scheduler.planning_unreachable import plan_unreachable_notices
from scheduler.quiet_release import release_changed_windows
from scheduler.step_failures import (
    APPOINTMENTS,
    FOLLOWUPS,
    PAUSE_END,
    REFILLS,
    UNREACHABLE_NOTICES,
    FailedUnit,
    StepFailures,
)

__all__ = ["PatientStep", "retry_failed_steps", "run_steps"]

logger = logging.getLogger("scheduler.planner")


class StepRun(Protocol):
    """One bulk step at ``now``: for ``patients`` (None: all) but those in ``skip``."""

    def __call__(
        self,
        conn: asyncpg.Connection,
        now: datetime,
        *,
        patients: Sequence[UUID] | None = None,
        skip: Sequence[UUID] = (),
    ) -> Awaitable[PlannerStats]: ...


@dataclass(frozen=True, slots=True)
class PatientStep:
    """A step done for all patients at once, that can be done for some of them only."""

    name: str  # as planner_step_failures.step names it
    run: StepRun
    # The query (planner.sql; $1 now, $2 left out) of the patients the step would touch.
    patients_query: str


def _steps(default_quiet: tuple[time, time] | None) -> tuple[PatientStep, ...]:
    return (
        PatientStep(
            FOLLOWUPS,
            functools.partial(plan_followups, default_quiet=default_quiet),
            "followup_patients",
        ),
        PatientStep(UNREACHABLE_NOTICES, plan_unreachable_notices, "unreachable_notice_patients"),
        PatientStep(REFILLS, plan_refills, "refill_patients"),
    )


async def run_steps(
    conn: asyncpg.Connection,
    now: datetime,
    failures: StepFailures,
    *,
    default_quiet: tuple[time, time],
    keep: timedelta,
) -> PlannerStats:
    """Follow-ups, unreachable notices, refills, quiet-hours releases and appointment sync at
    ``now``, in the caller's transaction, each patient's failure its own (recorded in
    ``failures``). ``keep``: how long a note of a changed quiet window is read
    (:func:`scheduler.quiet_release.note_keep`)."""
    stats = PlannerStats()
    for step in _steps(default_quiet):
        stats += await _run_isolated(conn, step, now, failures)
    stats += await _release_windows(conn, now, default_quiet, keep)
    # A savepoint per appointment inside, each failure recorded in ``failures``.
    stats += PlannerStats(appointments_synced=await sync_appointments(conn, now, failures))
    return stats


async def _release_windows(
    conn: asyncpg.Connection, now: datetime, default_quiet: tuple[time, time], keep: timedelta
) -> PlannerStats:
    """Windows changed by the dashboard or by hand: what waits out the old one is re-timed, in
    a savepoint. No patient's row can make it raise (a zone that does not load is judged in UTC,
    :func:`scheduler.quiet_hours.deferral_end`); should it fail all the same, the notes are
    kept for the next tick and the other steps are done."""
    try:
        async with conn.transaction():
            await release_changed_windows(conn, now, default_quiet, keep=keep)
    except NOT_THE_SCHEDULES:
        raise
    except Exception as exc:  # a bug: said by its class (its message may quote a row's values)
        logger.error("quiet-hours release failed", extra={"error_class": type(exc).__name__})
        return PlannerStats(errors=1)
    return PlannerStats()


async def _run_isolated(
    conn: asyncpg.Connection, step: PatientStep, now: datetime, failures: StepFailures
) -> PlannerStats:
    """``step`` for all patients (but those left out) in a savepoint; if it fails, for halves
    of the patients it would touch until each failing one is found and recorded."""
    skip = failures.skip(step.name)
    try:
        async with conn.transaction():
            return await step.run(conn, now, skip=skip)
    except NOT_THE_SCHEDULES:
        raise
    except Exception as exc:  # what a row made fail (bad data, a bug): that patient's, not all's
        # The failing patients are named once found (step_failures); here the class only.
        logger.info(
            "planner step failed in bulk: finding the patients",
            extra={"step": step.name, "error_class": type(exc).__name__},
        )
    rows = await conn.fetch(query("planner", step.patients_query), now, skip)
    return await _bisect(conn, step, now, [r[0] for r in rows], failures)


async def _bisect(
    conn: asyncpg.Connection,
    step: PatientStep,
    now: datetime,
    patients: Sequence[UUID],
    failures: StepFailures,
) -> PlannerStats:
    """``step`` for ``patients`` in a savepoint; if it fails, for each half of them."""
    if not patients:
        return PlannerStats()
    try:
        async with conn.transaction():
            return await step.run(conn, now, patients=patients)
    except NOT_THE_SCHEDULES:
        raise
    except Exception as exc:
        if len(patients) == 1:
            recorded = await failures.record(conn, step.name, patients[0], patients[0], exc)
            return PlannerStats(errors=int(recorded))
    half = len(patients) // 2
    first = await _bisect(conn, step, now, patients[:half], failures)
    return first + await _bisect(conn, step, now, patients[half:], failures)


async def retry_failed_steps(
    conn: asyncpg.Connection,
    now: datetime,
    failures: StepFailures,
    *,
    replan: Replan,
    default_quiet: tuple[time, time],
) -> PlannerStats:
    """Try the units recorded as failed before this tick, each alone in a savepoint (at most
    :data:`~scheduler.step_failures.RETRIES_PER_TICK`): done, the failure is forgotten; failing
    again, it is counted again. ``replan``: the planner's ``replan_patient`` (a pause's end)."""
    steps = {step.name: step for step in _steps(default_quiet)}
    stats = PlannerStats()
    for unit in await failures.to_retry(conn):
        try:
            async with conn.transaction():
                if unit.step in steps:
                    stats += await steps[unit.step].run(conn, now, patients=[unit.unit_id])
                else:
                    await _retry_other(conn, now, unit, replan, default_quiet)
        except NOT_THE_SCHEDULES:
            raise
        except Exception as exc:
            recorded = await failures.record(conn, unit.step, unit.unit_id, unit.patient_id, exc)
            stats += PlannerStats(errors=int(recorded))
            continue
        await failures.forget(conn, unit)
    return stats


async def _retry_other(
    conn: asyncpg.Connection,
    now: datetime,
    unit: FailedUnit,
    replan: Replan,
    default_quiet: tuple[time, time],
) -> None:
    """One pause end or appointment sync, raising if it fails (nothing to
    do any more, the pause lifted by hand or the appointment gone, is done)."""
    if unit.step == PAUSE_END:
        for row in await conn.fetch(query("planner", "ended_pauses"), now, 1, [unit.unit_id], []):
            await end_pause(conn, row, now, replan, default_quiet)
    elif unit.step == APPOINTMENTS:
        for row in await conn.fetch(
            query("planner", "appointments_to_sync"), now, 1, [unit.unit_id], []
        ):
            await sync_appointment(conn, row, now)
    else:  # a step this version does not know (a newer worker's): leave it to that one
        raise LookupError(f"unknown planner step {unit.step!r}")
