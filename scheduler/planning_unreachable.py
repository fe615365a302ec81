"""The caregivers' one notice that reminders no longer reach the patient.

A patient no channel can reach (``patients.unreachable_since``: STOP on their only channel, the
bot blocked, a number that cannot receive) gets no reminder, and their doses are
``unreachable``, not missed (:mod:`scheduler.planner`, :mod:`scheduler.planning_followups`), so
no per-dose alert says "has not confirmed". Silence would read as "all is well", so each
caregiver a missed dose would alert is told once, at the planner's clock, after their
``alert_delay_minutes`` (a STOP taken back within it tells nobody: the trigger that clears
``unreachable_since`` cancels the notice), and at most once a day per caregiver and patient.
Migration 20260101013300 marks the spell (``unreachable_notice_pending``); this pass plans the
notice and clears the mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.sql import query
from scheduler.planning_rules import CAREGIVER_PRIORITY
from scheduler.planning_stats import PlannerStats

__all__ = ["UNREACHABLE_NOTICE_TTL", "plan_unreachable_notices"]

# Still worth sending the next morning: the caregiver's quiet hours may hold it overnight.
UNREACHABLE_NOTICE_TTL = timedelta(hours=24)


async def plan_unreachable_notices(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    patient_id: UUID | None = None,
    patients: Sequence[UUID] | None = None,
    skip: Sequence[UUID] = (),
) -> PlannerStats:
    """Plan the notices of the marked spells (of one patient, of ``patients``, or all but
    ``skip``'s) at ``now``."""
    if patient_id is not None:
        patients = [patient_id]
    rows = await conn.fetch(
        query("planner", "plan_unreachable_notices"),
        now,
        CAREGIVER_PRIORITY,
        None if patients is None else list(patients),
        UNREACHABLE_NOTICE_TTL,
        list(skip),
    )
    return PlannerStats(unreachable_notices=len(rows))
