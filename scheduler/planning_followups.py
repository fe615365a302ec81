"""Nag until acknowledged: follow-ups, the missed mark and caregiver alerts for open doses.

Each pass reconciles every open dose (due or snoozed, due in the last 7 days) with its plan from
:func:`scheduler.planning_rules.plan_nags`: the follow-ups of the current reminder are created
ahead as pending rows at their times (idempotent per dose, reminder generation and number),
those the plan no longer has are cancelled, and a dose past its last follow-up becomes
``missed``, which plans the caregiver alerts. Follow-ups already due are never created late: a
pass that runs after a follow-up's time (worker down) drops it rather than sending it late.

A patient no channel can reach (``patients.unreachable_since``: STOP on their only channel, the
bot blocked) is not nagged, and a dose of theirs whose reminder never went out is
``unreachable``, not missed: nobody reminded them, and their caregivers had one notice that
reminders cannot reach the patient instead of an alert a dose (migration 20260101013300). A dose
whose reminder did go out is missed as before, without the alert.

A dose whose reminder a /pause withheld (withdrawn while queued, or held back at its send) and
that reaches its missed mark before the patient resumes is missed without a caregiver alert: the
patient never got the reminder, so nobody is told they ignored it (:mod:`scheduler.holds`). The
same holds for a reminder that expired or failed without going out (a worker down past its two
hours, every channel failing): the caregiver was told "Ana has not confirmed a scheduled
reminder" about one Ana never got.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from uuid import UUID

import asyncpg

from core.settings import Settings
from core.sql import query
from scheduler.planning_rules import (
    CAREGIVER_ALERT_TTL,
    CAREGIVER_PRIORITY,
    FOLLOWUP_PRIORITY,
    PAUSE_REASONS,
    followup_key,
    plan_nags,
)
from scheduler.planning_stats import PlannerStats

__all__ = ["catch_up_before_return", "plan_followups"]

# Statuses of a reminder that reached the patient's phone (the nag clock starts from them).
REMINDED = frozenset({"sent", "delivered"})
# Statuses of a reminder that ended without reaching the phone: its dose alerts no caregiver.
NEVER_SENT = frozenset({"expired", "failed"})
# The quiet window of a patient with no clinic when the caller gives none (settings' default).
FALLBACK_QUIET = (time(21, 0), time(8, 0))


async def catch_up_before_return(
    conn: asyncpg.Connection, patient_id: UUID, now: datetime, settings: Settings
) -> bool:
    """The pass a patient's unreachable spell would have had, at ``now``, before a change that
    may bring them back; whether they were unreachable (nothing is done otherwise).

    A dose reminded before the spell whose missed mark passed during it is missed without a
    caregiver alert (the caregiver had the one notice), one never reminded is 'unreachable'. With
    no pass between (the worker plans every minute; a quick return or a stopped worker has
    none), the return's re-plan found a reachable patient and alerted the caregiver about a dose
    missed while reminders could not reach them. The bot's returns do this (bot/engine.py);
    so do the clinic's (PATCH /api/v1/patients/{id}) and the patient app's. Call inside the
    transaction of the change."""
    if not await conn.fetchval(query("planner", "patient_unreachable"), patient_id):
        return False
    quiet = (settings.quiet_hours_start, settings.quiet_hours_end)
    await plan_followups(conn, now, default_quiet=quiet, patient_id=patient_id)
    return True


async def plan_followups(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    default_quiet: tuple[time, time] | None = None,
    patient_id: UUID | None = None,
    patients: Sequence[UUID] | None = None,
    skip: Sequence[UUID] = (),
) -> PlannerStats:
    """Reconcile the follow-ups of open doses (of one patient, of ``patients``, or all but
    ``skip``'s) at ``now``.

    Call inside a transaction: the open doses stay locked until it ends.
    """
    quiet_default = default_quiet or FALLBACK_QUIET
    if patient_id is not None:
        patients = [patient_id]
    doses = await conn.fetch(
        query("planner", "open_doses"),
        now,
        None if patients is None else list(patients),
        list(skip),
    )
    if not doses:
        return PlannerStats()
    keep_keys: list[str] = []
    new: list[tuple[UUID, int, datetime, str, datetime]] = []
    counts: list[tuple[UUID, int]] = []
    missed: list[tuple[UUID, datetime]] = []
    unreminded: list[UUID] = []  # missed, their reminder never went out: no alert
    unreachable: list[UUID] = []
    for dose in doses:
        if not dose["reachable"] and dose["reminder_status"] not in REMINDED:
            if dose["reminder_status"] != "processing":  # a send in flight: its outcome decides
                unreachable.append(dose["id"])
            continue
        quiet_start, quiet_end = dose["quiet_start"], dose["quiet_end"]
        if not dose["has_organization"] and dose["quiet_start"] is None:
            quiet_start, quiet_end = quiet_default
        plan = plan_nags(
            due_at=dose["due_at"],
            snoozed_until=dose["snoozed_until"] if dose["status"] == "snoozed" else None,
            reminder_status=dose["reminder_status"],
            reminder_sent_at=dose["reminder_sent_at"],
            interval_minutes=dose["nag_interval_minutes"],
            nag_max=dose["nag_max"],
            timezone=dose["timezone"],
            quiet_start=quiet_start,
            quiet_end=quiet_end,
        )
        if plan.missed_at is not None and now >= plan.missed_at:
            withheld = (
                dose["reminder_status"] == "cancelled" and dose["reminder_error"] in PAUSE_REASONS
            )
            if withheld or dose["reminder_status"] in NEVER_SENT:
                unreminded.append(dose["id"])
            else:
                missed.append((dose["id"], plan.missed_at))
            continue
        if not dose["active"] or not dose["reachable"]:
            continue  # paused, withdrawn or unreachable: nothing new, pending follow-ups cancelled
        # Each follow-up's end: the next one's time, the last one's the missed mark.
        ends = [at for _, at in plan.followups[1:]] + [plan.missed_at]
        for (number, at), ends_at in zip(plan.followups, ends[: len(plan.followups)], strict=True):
            key = followup_key(dose["id"], plan.generation, number)
            keep_keys.append(key)
            if at >= now:
                # Expire when the next follow-up is due (the last: with the dose, at the missed
                # mark). A worker back from an outage, or sends held at a rate limit, sent every
                # follow-up still unexpired at once: the same "Did you take your 12:45 AM
                # dose?" three times in a second. Now the newest one goes.
                new.append((dose["id"], number, at, key, ends_at or at))
        if dose["nag_count"] != len(plan.followups) and plan.missed_at is not None:
            counts.append((dose["id"], len(plan.followups)))

    open_ids = [d["id"] for d in doses]
    cancelled = await conn.execute(
        query("planner", "cancel_unwanted_followups"), open_ids, now, keep_keys
    )
    stats = PlannerStats(followups_cancelled=int(cancelled.split()[-1]))
    if new:
        ids, numbers, ats, keys, expires = (list(c) for c in zip(*new, strict=True))
        rows = await conn.fetch(
            query("planner", "insert_followups"),
            ids,
            numbers,
            ats,
            keys,
            FOLLOWUP_PRIORITY,
            expires,
        )
        stats += PlannerStats(followups_created=len(rows))
    if counts:
        ids, ns = (list(c) for c in zip(*counts, strict=True))
        await conn.execute(query("planner", "set_nag_counts"), ids, ns)
    if unreachable:
        row = await conn.fetchrow(query("planner", "mark_unreachable"), unreachable)
        stats += PlannerStats(doses_unreachable=row["doses"], messages_cancelled=row["messages"])
    if missed:
        ids, whens = (list(c) for c in zip(*missed, strict=True))
        row = await conn.fetchrow(
            query("planner", "mark_missed"), ids, whens, CAREGIVER_PRIORITY, CAREGIVER_ALERT_TTL
        )
        stats += PlannerStats(doses_missed=row["missed"], caregiver_alerts=row["alerts"])
    if unreminded:
        n = await conn.fetchval(query("planner", "mark_missed_unreminded"), unreminded)
        stats += PlannerStats(doses_missed=n)
    return stats
