"""Refill reminders: one when a medication's pill count will run out within its
``refill_days_before`` days at the rate of its active schedules.

The rate is the schedules' average doses a day (times of day x share of weekdays / every N days)
times whole pills a dose. The reminder is sent once per count window: ``refill_reminded_at`` is
set when it is planned and cleared by a database trigger when the count goes up (a refill), so
the next low count reminds again. Payload: ``medication_id``, ``doses_left`` and ``runs_out_on``
(the local date the count runs out, ISO 8601; not named ``refill_by`` because the template's
``date`` filter needs a ``date``, which JSON cannot carry: the dispatcher may convert it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.planning_rules import REFILL_PRIORITY
from scheduler.planning_stats import PlannerStats

__all__ = ["plan_refills"]


async def plan_refills(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    patients: Sequence[UUID] | None = None,
    skip: Sequence[UUID] = (),
) -> PlannerStats:
    """Plan the refill reminders due at ``now`` (of ``patients``, or all but ``skip``'s); call
    inside a transaction."""
    rows = await conn.fetch(
        query("planner", "plan_refills"),
        now,
        REFILL_PRIORITY,
        None if patients is None else list(patients),
        list(skip),
    )
    return PlannerStats(refill_reminders=len(rows))
