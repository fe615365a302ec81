"""The planner: reminder schedules become dose events and ``scheduled_messages`` rows.

``run_planner_tick`` runs every minute in the worker (APScheduler). Each tick, under an advisory
lock so that one worker plans at a time:

0. Pauses whose end has passed (:mod:`scheduler.pause_ends`): the patient is resumed as by
   /resume and told once, before the materialization below plans their doses.
1. Materialization: every schedule marked for re-planning (``planned_until`` null: new, edited,
   paused, its patient's timezone or pause changed; database triggers set the mark whoever made
   the change) is reconciled: future pending doses the rule no longer has are cancelled with
   everything pending for them, and the missing ones created. Every wanted schedule whose plan
   runs out within the horizon is extended. Wanted means an active schedule of an active
   medication of an active, consented, not paused patient. A wanted schedule of a patient no
   channel can reach (``patients.unreachable_since``: STOP on their only channel, the bot
   blocked), or of one not linked yet (``patients.linked_at`` null: nothing reached them so
   far) with no usable contact point (an invite link not opened, a typed number the carrier
   refused; not unreachable, no caregiver notice), gets its doses as ``unreachable`` with no
   reminder (one not linked yet with a usable contact point is reminded: that is how the first
   message reaches them); once the patient can be reached
   again the doses ahead are revived with their reminders, those past stay as they were (no
   flood of stale reminders). Occurrences come from
   :func:`scheduler.recurrence.occurrences` in the zone of :func:`resolve_timezone`; rows are
   written in bulk (``unnest``) and are idempotent (``dose_events`` unique by schedule and due
   time, reminders by ``dose:<schedule>:<local date>:<local time>:v<version>``).
2. Follow-ups (:mod:`scheduler.planning_followups`): nags, the missed mark, caregiver alerts.
3. The caregivers' one notice that a patient can no longer be reached
   (:mod:`scheduler.planning_unreachable`).
4. Refills (:mod:`scheduler.planning_refills`), then the release of quiet-hours deferrals whose
   window changed and appointment sync.

Steps 0 and 2-4 fail per patient (per appointment), not for everyone: a patient a step fails
for is recorded, left out of that step's bulk pass and tried alone, bounded, each tick
(:mod:`scheduler.planning_steps`, :mod:`scheduler.step_failures`).

One schedule that fails to plan (bad data, a bug) does not stop the others: a batch that fails is
planned again patient by patient, then schedule by schedule, each in a savepoint; each that
still fails is recorded, left out of later batches and tried on its own once a tick
(:mod:`scheduler.planning_failures`). A batch that succeeds costs what it did before.

``replan_schedule`` / ``replan_patient`` do step 1 (and 2 for the patient) at once, in the
caller's transaction, for a bot or API that wants the change visible before it answers.

All time comes from the ``now`` argument; nothing here reads a clock.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from core.settings import Settings
from core.sql import query
from scheduler.pause_ends import end_ended_pauses
from scheduler.pause_notice import reslot_pause_notices
from scheduler.planning_day_quota import within_day_quota
from scheduler.planning_failures import (
    NOT_THE_SCHEDULES,
    failed_to_retry,
    forget_failures,
    record_failure,
)
from scheduler.planning_followups import FALLBACK_QUIET, plan_followups
from scheduler.planning_peaks import (
    PeakCapacity,
    early_send_at,
    early_shares,
    patient_quiet,
    priority_of,
    window_share,
)
from scheduler.planning_rules import (
    DEFAULT_HORIZON,
    recurrence_for,
    reminder_key,
    resolve_timezone,
)
from scheduler.planning_stats import PlannerStats
from scheduler.planning_steps import retry_failed_steps, run_steps
from scheduler.planning_unreachable import plan_unreachable_notices
from scheduler.quiet_release import note_keep, release_quiet_deferrals
from scheduler.recurrence import Occurrence, Recurrence, occurrences
from scheduler.step_failures import StepFailures

__all__ = ["PlannerStats", "replan_patient", "replan_schedule", "run_planner_tick"]

logger = logging.getLogger(__name__)

# Schedules this process has said it cannot plan (bounded: forgotten all at once when full).
_UNPLANNABLE_SAID: set[UUID] = set()
_UNPLANNABLE_SAID_MAX = 10_000


def _warn_once(schedule_id: UUID) -> bool:
    """Whether this process has yet to say that ``schedule_id`` cannot be planned (now it has)."""
    if schedule_id in _UNPLANNABLE_SAID:
        return False
    if len(_UNPLANNABLE_SAID) >= _UNPLANNABLE_SAID_MAX:
        _UNPLANNABLE_SAID.clear()
    _UNPLANNABLE_SAID.add(schedule_id)
    return True


# Any fixed 64-bit number, distinct from the migrator's: one planner tick at a time.
PLANNER_LOCK_KEY = 7_240_310_554_202
# Schedules per transaction: big enough for bulk statements, small enough for short locks.
BATCH_SIZE = 500
# Bound on one tick's work; the rest waits for the next tick a minute later.
MAX_BATCHES_PER_TICK = 40


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now: naive datetime; pass an aware one")


def _extend_slack(horizon: timedelta) -> timedelta:
    """A schedule is extended when less than ``horizon - slack`` is planned: once an hour rather
    than every minute, so a tick touches a sliver of the schedules, not all of them."""
    return min(timedelta(hours=1), horizon / 4)


async def run_planner_tick(pool: asyncpg.Pool, now: datetime, settings: Settings) -> PlannerStats:
    """One planner pass at instant ``now`` (aware). Safe to run on every worker at once."""
    _check_aware(now)
    horizon = timedelta(hours=settings.planner_horizon_hours)
    threshold = now + horizon - _extend_slack(horizon)
    # The bots' capacity around one instant: a peak beyond it may leave early (planning_peaks).
    capacity = PeakCapacity.from_settings(settings)
    stats = PlannerStats()
    default_quiet = (settings.quiet_hours_start, settings.quiet_hours_end)
    # What /resume re-plans with (scheduler.holds.resume_reminders).
    resume = functools.partial(replan_patient, default_quiet=default_quiet, capacity=capacity)
    # Pauses whose end passed first: their patients' doses are planned in this same tick.
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval(query("planner", "try_planner_lock"), PLANNER_LOCK_KEY):
            return stats.evolve(skipped=True)
        # The patients each step failed for before: left out of its bulk pass (planning_steps).
        failures = await StepFailures.load(conn, now)
        stats += await end_ended_pauses(conn, now, resume, default_quiet, failures)
    for _ in range(MAX_BATCHES_PER_TICK):
        rows: Sequence[asyncpg.Record] = ()
        try:
            async with pool.acquire() as conn, conn.transaction():
                if not await conn.fetchval(query("planner", "try_planner_lock"), PLANNER_LOCK_KEY):
                    return stats.evolve(skipped=True)
                rows = await conn.fetch(
                    query("planner", "schedules_to_plan"), threshold, BATCH_SIZE
                )
                stats += await _plan_schedules(
                    conn, rows, now, horizon, capacity=capacity, default_quiet=default_quiet
                )
        except NOT_THE_SCHEDULES:
            raise
        except Exception:
            if not rows:
                raise  # not planning that failed: the lock or the read
            # One bad schedule must not stop the batch's other patients (planning_failures).
            async with pool.acquire() as conn, conn.transaction():
                if not await conn.fetchval(query("planner", "try_planner_lock"), PLANNER_LOCK_KEY):
                    return stats.evolve(skipped=True)
                again = await conn.fetch(
                    query("planner", "schedules_by_id"), [r["id"] for r in rows]
                )
                for part in _by_patient(again):
                    stats += await _plan_isolated(
                        conn, part, now, horizon, capacity=capacity, default_quiet=default_quiet
                    )
        if len(rows) < BATCH_SIZE:
            break
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval(query("planner", "try_planner_lock"), PLANNER_LOCK_KEY):
            return stats.evolve(skipped=True)
        stats += await _retry_failed(
            conn, now, horizon, capacity=capacity, default_quiet=default_quiet
        )
        # One patient's bad row stops none of these for the others (planning_steps).
        stats += await retry_failed_steps(
            conn, now, failures, replan=resume, default_quiet=default_quiet
        )
        stats += await run_steps(
            conn,
            now,
            failures,
            default_quiet=default_quiet,
            keep=note_keep(settings.worker_lease_seconds),
        )
    if stats.changed:
        logger.info("planner tick", extra={"stats": dataclasses.asdict(stats)})
    return stats


async def replan_schedule(
    conn: asyncpg.Connection,
    schedule_id: UUID,
    now: datetime,
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    capacity: PeakCapacity | None = None,
    default_quiet: tuple[time, time] = FALLBACK_QUIET,
) -> PlannerStats:
    """Re-plan one schedule now, after an edit or pause: cancel the future pending rows it no
    longer wants (and their doses) and create the missing ones up to ``now + horizon``.
    ``default_quiet``: the service's quiet window (a patient with none of their own and no
    clinic's), where a waiting "reminders are back on" is placed again.

    ``capacity``: the bots' (``PeakCapacity.from_settings``): new routine reminders in a
    forecast peak leave early by the clinic's window, as the tick plans them. None: never early.
    Runs in the caller's transaction if there is one; waits for a concurrent planner. A
    schedule that fails to plan is recorded (:mod:`scheduler.planning_failures`), not raised:
    the tick tries it again.
    """
    _check_aware(now)
    async with conn.transaction():
        rows = await conn.fetch(query("planner", "schedules_by_id"), [schedule_id])
        if not rows:
            raise LookupError(f"schedule {schedule_id} does not exist")
        return await _plan_isolated(
            conn, rows, now, horizon, full=True, capacity=capacity, default_quiet=default_quiet
        )


async def replan_patient(
    conn: asyncpg.Connection,
    patient_id: UUID,
    now: datetime,
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    move_home: bool = False,
    default_quiet: tuple[time, time] | None = None,
    capacity: PeakCapacity | None = None,
) -> PlannerStats:
    """Re-plan all of a patient's schedules and open doses, after a change of timezone, timezone
    mode, quiet hours, pause or consent.

    ``move_home=True`` says the patient's current ``timezone`` is their new home: 'home'-mode
    reminders move there (a trip does not move them; see :func:`resolve_timezone`).
    ``default_quiet`` is the quiet window for a patient with no clinic (settings' default).
    ``capacity``: as for :func:`replan_schedule` (the early window in a forecast peak).
    A schedule that fails to plan is recorded and left to the tick; the others are planned.
    """
    _check_aware(now)
    async with conn.transaction():
        if move_home:
            await conn.execute(query("planner", "move_home_timezone"), patient_id)
        ids = [
            r["id"]
            for r in await conn.fetch(query("planner", "schedule_ids_of_patient"), patient_id)
        ]
        stats = PlannerStats()
        if ids:
            rows = await conn.fetch(query("planner", "schedules_by_id"), ids)
            stats += await _plan_isolated(
                conn,
                rows,
                now,
                horizon,
                full=True,
                capacity=capacity,
                default_quiet=default_quiet or FALLBACK_QUIET,
            )
        stats += await plan_followups(conn, now, default_quiet=default_quiet, patient_id=patient_id)
        stats += await plan_unreachable_notices(conn, now, patient_id=patient_id)
        # A new quiet window or zone: what waits out the old window is judged again.
        await release_quiet_deferrals(
            conn, now, default_quiet or FALLBACK_QUIET, patient_id=patient_id
        )
        return stats


async def _plan_isolated(
    conn: asyncpg.Connection,
    rows: Sequence[asyncpg.Record],
    now: datetime,
    horizon: timedelta,
    *,
    full: bool = False,
    capacity: PeakCapacity | None = None,
    default_quiet: tuple[time, time] = FALLBACK_QUIET,
) -> PlannerStats:
    """:func:`_plan_schedules` in a savepoint; if it fails, ``rows`` again patient by patient,
    then schedule by schedule, and each schedule that fails alone is recorded, not raised."""
    try:
        async with conn.transaction():
            return await _plan_schedules(
                conn, rows, now, horizon, full=full, capacity=capacity, default_quiet=default_quiet
            )
    except NOT_THE_SCHEDULES:
        raise
    except Exception as exc:  # whatever a row made fail (bad data, a bug): that row's, not all's
        if len(rows) == 1:
            recorded = await record_failure(conn, rows[0], now, exc)
            return PlannerStats(schedules_failed=int(recorded))
    parts = _by_patient(rows)
    if len(parts) == 1:
        parts = [[row] for row in rows]
    stats = PlannerStats()
    for part in parts:
        stats += await _plan_isolated(
            conn, part, now, horizon, full=full, capacity=capacity, default_quiet=default_quiet
        )
    # Every part planned alone (the rows failed only together): the work is done, nothing to blame.
    return stats


def _by_patient(rows: Sequence[asyncpg.Record]) -> list[list[asyncpg.Record]]:
    """``rows`` grouped by patient, in their order."""
    groups: dict[UUID, list[asyncpg.Record]] = {}
    for row in rows:
        groups.setdefault(row["patient_id"], []).append(row)
    return list(groups.values())


async def _retry_failed(
    conn: asyncpg.Connection,
    now: datetime,
    horizon: timedelta,
    *,
    capacity: PeakCapacity | None,
    default_quiet: tuple[time, time],
) -> PlannerStats:
    """Try the schedules that failed before, each on its own (planning_failures): one fixed
    since is planned and forgotten, one that fails again is counted again."""
    ids = await failed_to_retry(conn, now)
    if not ids:
        return PlannerStats()
    stats = PlannerStats()
    planned: list[UUID] = []
    for row in await conn.fetch(query("planner", "schedules_by_id"), ids):
        alone = await _plan_isolated(
            conn, [row], now, horizon, capacity=capacity, default_quiet=default_quiet
        )
        # Neither planned nor failed: a concurrent transaction's conflict (not_the_rows), kept
        # for the next tick's try.
        if alone.schedules_planned:
            planned.append(row["id"])
        stats += alone
    await forget_failures(conn, planned)
    return stats


async def _plan_schedules(
    conn: asyncpg.Connection,
    rows: Sequence[asyncpg.Record],
    now: datetime,
    horizon: timedelta,
    *,
    full: bool = False,
    capacity: PeakCapacity | None = None,
    default_quiet: tuple[time, time] = FALLBACK_QUIET,
) -> PlannerStats:
    """Reconcile (rows marked for re-planning, or all with ``full``) and extend ``rows``.

    ``capacity``: what the bots send around one instant; beyond it, routine reminders of clinics
    with an early window leave early (:mod:`scheduler.planning_peaks`). None: never early.

    The rows are locked by the caller's query. Occurrences are planned in ``(after, until]``:
    from the end of the previous plan (or ``now`` for a reconciled schedule, so nothing is
    planned in the past) to ``now + horizon``, never less than what was planned before.
    """
    stats = PlannerStats()
    reconcile: list[UUID] = []
    wanted: list[_Wanted] = []
    planned: list[tuple[UUID, datetime]] = []
    to_pin: dict[UUID, str] = {}
    replanned: dict[UUID, Recurrence] = {}
    for row in rows:
        previous = row["planned_until"]
        until = now + horizon
        if full or previous is None:
            reconcile.append(row["id"])
            after = now
            if previous is not None:
                until = max(until, previous)
        else:
            after = max(previous, now)
        planned.append((row["id"], until if row["wanted"] else now))
        if not row["wanted"]:
            continue
        zone = resolve_timezone(
            row["timezone"], row["patient_timezone"], row["timezone_mode"], row["home_timezone"]
        )
        try:
            rule = recurrence_for(row, zone)
        except ValueError as exc:
            # A rule the recurrence refuses sends nothing rather than something wrong. Said once
            # a process per schedule (a WARNING each tick for each schedule of a patient whose
            # zone is unknown was noise; medremind_patients_timezone_unknown counts them).
            if _warn_once(row["id"]):
                logger.warning(
                    "schedule not plannable",
                    extra={"schedule_id": str(row["id"]), "reason": str(exc)},
                )
            stats += PlannerStats(errors=1)
            reconcile.append(row["id"])
            continue
        if row["timezone"] is None and row["timezone_mode"] == "home" and not row["home_timezone"]:
            to_pin[row["patient_id"]] = row["patient_timezone"]
        wanted.extend(_Wanted(row, zone, occ) for occ in occurrences(rule, after, until))
        if full or previous is None:
            replanned[row["id"]] = rule
    if replanned:
        # Planned from now: a date keeps no more doses than its rule has (planning_day_quota).
        wanted = await within_day_quota(conn, wanted, replanned, now)

    if to_pin:
        await conn.execute(
            query("planner", "pin_home_timezones"), list(to_pin), list(to_pin.values())
        )
    if reconcile:
        gone = await conn.fetchrow(
            query("planner", "cancel_unwanted_doses"),
            reconcile,
            [w.row["id"] for w in wanted],
            [w.occ.utc for w in wanted],
            [w.occ.local_date for w in wanted],
            [w.occ.local_time for w in wanted],
            now,
        )
        stats += PlannerStats(doses_cancelled=gone["doses"], messages_cancelled=gone["messages"])
    reminded = [w for w in wanted if w.row["reachable"]]
    if reminded:
        stats += await _insert_wanted(conn, reminded, now, capacity)
    if len(reminded) < len(wanted):
        stats += await _insert_unreachable(conn, [w for w in wanted if not w.row["reachable"]], now)
    if planned:
        ids, untils = zip(*planned, strict=True)
        await conn.execute(query("planner", "set_planned_until"), list(ids), list(untils))
    if reconcile:
        # New times (the bot, the API, any path that marks the schedule), zone or quiet hours: a
        # "reminders are back on" still waiting goes before the first reminder it announces.
        patients = {row["patient_id"] for row in rows if row["id"] in set(reconcile)}
        await reslot_pause_notices(conn, sorted(patients), now, default_quiet)
    return stats + PlannerStats(schedules_planned=len(rows))


class _Wanted(NamedTuple):
    """One occurrence the plan wants, with the schedule row and zone it came from."""

    row: asyncpg.Record
    zone: str
    occ: Occurrence


def _occurrence_arrays(wanted: Sequence[_Wanted]) -> tuple[list[Any], ...]:
    """The dose statements' arrays: schedule, due time, local date and time, version."""
    return (
        [w.row["id"] for w in wanted],
        [w.occ.utc for w in wanted],
        [w.occ.local_date for w in wanted],
        [w.occ.local_time for w in wanted],
        [w.row["version"] for w in wanted],
    )


async def _insert_unreachable(
    conn: asyncpg.Connection, wanted: Sequence[_Wanted], now: datetime
) -> PlannerStats:
    """Doses of patients no channel reaches, as ``unreachable``: no reminder, never missed."""
    row = await conn.fetchrow(
        query("planner", "insert_unreachable_doses"), *_occurrence_arrays(wanted), now
    )
    return PlannerStats(doses_unreachable=row["doses"], messages_cancelled=row["messages"])


async def _insert_wanted(
    conn: asyncpg.Connection,
    wanted: Sequence[_Wanted],
    now: datetime,
    capacity: PeakCapacity | None = None,
) -> PlannerStats:
    """Doses for the wanted occurrences, then reminders for those that are new or revived:
    time-critical ones first in the claim order, routine ones early in a forecast peak."""
    doses = await conn.fetch(query("planner", "insert_doses"), *_occurrence_arrays(wanted), now)
    if not doses:
        return PlannerStats()
    by_time = {(w.row["id"], w.occ.utc): w for w in wanted}
    made = [(d["id"], by_time[d["schedule_id"], d["due_at"]]) for d in doses]
    keys = [
        reminder_key(w.row["id"], w.occ.local_date, w.occ.local_time, w.row["version"])
        for _, w in made
    ]
    send_at = await _send_times(conn, [w for _, w in made], keys, capacity)
    reminders = await conn.fetch(
        query("planner", "insert_reminders"),
        [w.row["organization_id"] for _, w in made],
        [w.row["patient_id"] for _, w in made],
        [w.occ.utc for _, w in made],
        [_reminder_payload(dose_id, w) for dose_id, w in made],
        keys,
        [dose_id for dose_id, _ in made],
        [priority_of(w.row) for _, w in made],
        send_at,
    )
    return PlannerStats(doses_created=len(doses), reminders_created=len(reminders))


def _may_leave_early(w: _Wanted) -> bool:
    return not w.row["time_critical"] and w.row["early_seconds"] > 0


async def _send_times(
    conn: asyncpg.Connection,
    made: Sequence[_Wanted],
    keys: Sequence[str],
    capacity: PeakCapacity | None,
) -> list[datetime]:
    """When each new reminder is sent: its dose's time, or early in a forecast peak."""
    due = [w.occ.utc for w in made]
    if capacity is None or not any(_may_leave_early(w) for w in made):
        return due
    routine: dict[datetime, int] = {}
    for w in made:
        if _may_leave_early(w):
            routine[w.occ.utc] = routine.get(w.occ.utc, 0) + 1
    shares = await early_shares(conn, capacity, due, routine)
    return [
        early_send_at(
            w.occ.utc,
            key,
            float(w.row["early_seconds"]),
            window_share(
                shares.get(w.occ.utc, 0.0),
                routine[w.occ.utc],
                capacity.per_second,
                float(w.row["early_seconds"]),
            ),
            w.zone,
            patient_quiet(w.row, capacity.default_quiet),
        )
        if _may_leave_early(w)
        else w.occ.utc
        for w, key in zip(made, keys, strict=True)
    ]


def _reminder_payload(dose_id: UUID, w: _Wanted) -> dict[str, str]:
    """What the reminder template and the bot's buttons need; no medicine name (the dispatcher
    joins it only for patients who opted in) and no due time (it joins the dose's own)."""
    return {
        "dose_event_id": str(dose_id),
        "medication_id": str(w.row["medication_id"]),
        "schedule_id": str(w.row["id"]),
        "local_date": w.occ.local_date.isoformat(),
        "local_time": w.occ.local_time.strftime("%H:%M"),
        "timezone": w.zone,
    }
