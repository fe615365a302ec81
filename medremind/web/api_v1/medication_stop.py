"""A FHIR ``MedicationRequest`` stopped in the clinic's EHR stops its reminders.

``POST /fhir/MedicationRequest`` with ``status`` ``stopped``, ``cancelled``, ``completed`` or
``entered-in-error`` (FHIR R4: the prescription is no longer to be acted on) and the ``id`` it
was imported with stops the medicine made from it, as the patient's /meds delete does: deleted,
its schedules ended, its open doses and their pending reminders (nags, caregiver alerts, the
refill notice) cancelled, and nothing sent after (a reminder a worker claimed meanwhile is
withheld at send). It was a 422: an EHR could import a prescription but never end it, and the
patient was reminded of a drug their doctor had stopped.

Stopping again is a 200 that changes nothing (an EHR's sync resends its resources); an ``id``
never imported is a 404 on ``id``; without ``id`` there is nothing to find, a 422.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from core.settings import Settings
from core.sql import query
from medremind.web.errors import ApiError, ValidationFailed
from scheduler.planner import replan_schedule
from scheduler.planning_peaks import PeakCapacity

# FHIR R4's statuses of a request no longer to be acted on, and R5's "ended".
STOPPED = frozenset({"stopped", "cancelled", "completed", "entered-in-error", "ended"})


class MedicationStopped(BaseModel):
    """The answer to a stopped, paused (on-hold) or resumed MedicationRequest."""

    medication_id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    status: str = Field(
        description="`stopped`: the medicine's reminders are over; `paused` (on-hold): none"
        " until it is active again; `active`: resumed"
    )
    fhir_status: str = Field(description="The MedicationRequest's status, as sent")
    reminders_cancelled: int = Field(
        description="Pending reminders, nags, caregiver alerts and refill notices cancelled"
        " (0 when it was stopped already)"
    )


async def stop_imported(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    patient_id: uuid.UUID,
    external_id: str | None,
    fhir_status: str,
    now: datetime,
    settings: Settings,
) -> dict[str, Any]:
    """Stop the medicine imported from ``external_id`` for the patient; the answer's body."""
    if external_id is None:
        raise ValidationFailed(
            "id",
            f"is required to stop a medicine (status {fhir_status}): give the id of the"
            " MedicationRequest it was imported with",
        )
    row = await conn.fetchrow(query("web", "imported_medication"), org_id, external_id)
    if row is None:
        raise ApiError(
            404,
            "no medicine was imported from this MedicationRequest id, so there is nothing to"
            f" stop (status {fhir_status})",
            field="id",
        )
    if row["patient_id"] != patient_id:
        raise ValidationFailed("id", "this MedicationRequest id belongs to another patient")
    cancelled = 0
    if row["status"] != "deleted":
        reason = f"medicine stopped: MedicationRequest {fhir_status}"
        stop = await conn.fetchrow(query("web", "stop_medication"), row["id"], reason)
        cancelled = stop["cancelled"]
        for schedule_id in stop["schedule_ids"]:
            # Ended: the plan drops what the schedule had ahead (as /meds' delete re-plans).
            await replan_schedule(
                conn,
                schedule_id,
                now,
                horizon=timedelta(hours=settings.planner_horizon_hours),
                capacity=PeakCapacity.from_settings(settings),
            )
    return medicine_answer(row, "stopped", fhir_status, cancelled)


def medicine_answer(
    medicine: Mapping[str, Any], status: str, fhir_status: str, cancelled: int
) -> dict[str, Any]:
    """A :class:`MedicationStopped` body for ``medicine`` (its id, patient_id and name)."""
    return {
        "medication_id": str(medicine["id"]),
        "patient_id": str(medicine["patient_id"]),
        "name": medicine["name"],
        "status": status,
        "fhir_status": fhir_status,
        "reminders_cancelled": cancelled,
    }
