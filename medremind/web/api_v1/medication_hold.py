"""A FHIR ``MedicationRequest`` put on hold in the clinic's EHR pauses its reminders; ``active``
again resumes them.

``POST /fhir/MedicationRequest`` with ``status: on-hold`` and the ``id`` a medicine was imported
with pauses that medicine as the patient's /meds pause does (bot/dialogs/medicines.py): it and its
schedules paused, its open doses cancelled with their pending reminders, nags and caregiver
alerts, nothing planned while it rests (a reminder a worker claimed meanwhile is withheld at
send). The same request with ``status: active`` resumes it as /meds' resume does: planned again
at once from now on, with the schedule it was imported with. Only a pause the EHR made
(``medications.paused_by``, migration 20260101016910) is resumed so: an EHR's sync resends every
active request, and would otherwise undo each pause the patient made in /meds (such an
``active`` is the 409 of a request imported already). Before, ``on-hold`` was a 422 and
``active`` again a 409, so an EHR pausing a drug (surgery, a lab value) left the patient reminded
of it.

Either is a 200 that changes nothing when the medicine is already so (an EHR's sync resends its
resources). ``on-hold`` for an ``id`` never imported is still the 422 it was: nothing to pause,
nothing to remind of.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from core.settings import Settings
from core.sql import query
from medremind.web.api_v1.medication_stop import medicine_answer
from scheduler.planner import replan_schedule
from scheduler.planning_peaks import PeakCapacity

ON_HOLD = "on-hold"


async def _replan(
    conn: asyncpg.Connection, schedule_ids: list[uuid.UUID], now: datetime, settings: Settings
) -> None:
    # Planned now, as /meds re-plans: a pause drops what was ahead, a resume plans it again.
    for schedule_id in schedule_ids:
        await replan_schedule(
            conn,
            schedule_id,
            now,
            horizon=timedelta(hours=settings.planner_horizon_hours),
            capacity=PeakCapacity.from_settings(settings),
        )


async def hold(
    conn: asyncpg.Connection, medicine: Mapping[str, Any], now: datetime, settings: Settings
) -> dict[str, Any]:
    """Pause the imported ``medicine`` (a ``medication_by_external_id`` row); the answer."""
    reason = f"medicine paused: MedicationRequest {ON_HOLD}"
    held = await conn.fetchrow(query("web", "hold_medication"), medicine["id"], reason)
    await _replan(conn, held["schedule_ids"], now, settings)
    return medicine_answer(medicine, "paused", ON_HOLD, held["cancelled"])


async def resume(
    conn: asyncpg.Connection,
    medicine: Mapping[str, Any],
    fhir_status: str,
    now: datetime,
    settings: Settings,
) -> dict[str, Any]:
    """Resume the imported, paused ``medicine``; the answer."""
    rows = await conn.fetch(query("web", "resume_medication"), medicine["id"])
    await _replan(conn, [r["id"] for r in rows], now, settings)
    return medicine_answer(medicine, "active", fhir_status, 0)
