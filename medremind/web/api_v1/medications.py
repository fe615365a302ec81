"""``/api/v1/patients/{patient_id}/medications``: a patient's medicines; which are time-critical.

A clinician marks a medication time-critical (insulin, anticonvulsants, Parkinson's medication):
its reminders go first in the claim order at their minute and never leave early in a forecast
peak (``scheduler/planning_peaks.py``, issue 20). The change applies at once to the reminders
already planned (their priority, and a reminder planned early goes back to its dose's time), and
is audited by the database as the API key.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field, StrictBool

from core.sql import query
from medremind.web.api_v1.common import Org, State, acting
from medremind.web.api_v1.models import BODY_ERRORS, NOT_FOUND, RequestModel
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import NotFound

router = new_router("medications")


class Medication(BaseModel):
    id: uuid.UUID
    name: str
    dose: str | None = None
    status: str = Field(description="active, paused or deleted")
    time_critical: bool = Field(description="Reminders first at their minute, never early")
    external_id: str | None = Field(
        None, description="The id of the FHIR MedicationRequest it was imported from"
    )
    paused_by: str | None = Field(
        None,
        description="`fhir`: paused by its MedicationRequest on hold (the same request active"
        " resumes it); null: not paused, or paused by the patient (/meds), which a FHIR import"
        " does not lift",
    )


class MedicationUpdate(RequestModel):
    time_critical: StrictBool


@router.get(
    "/patients/{patient_id}/medications",
    response_model=dict[str, list[Medication]],
    summary="A patient's medications",
    operation_id="listMedications",
    responses=NOT_FOUND,
)
async def list_medications(patient_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """Every medication of the patient but deleted ones, oldest first."""
    async with state.pool.acquire() as conn:
        if await conn.fetchrow(query("web", "get_patient"), patient_id, org_id) is None:
            raise NotFound("patient")
        rows = await conn.fetch(query("telegram_bots", "patient_medications"), patient_id)
    return {"data": [dict(r) for r in rows]}


@router.patch(
    "/patients/{patient_id}/medications/{medication_id}",
    response_model=Medication,
    summary="Mark a medication time-critical (or not)",
    operation_id="updateMedication",
    responses={**BODY_ERRORS, **NOT_FOUND},
)
async def update_medication(
    patient_id: uuid.UUID,
    medication_id: uuid.UUID,
    body: MedicationUpdate,
    org_id: Org,
    state: State,
) -> Any:
    """The planned reminders follow at once: their priority, and their time (the dose's)."""
    async with acting(state.pool) as conn:  # the audit names the API key
        if await conn.fetchrow(query("web", "get_patient"), patient_id, org_id) is None:
            raise NotFound("patient")
        row = await conn.fetchrow(
            query("telegram_bots", "set_time_critical"),
            medication_id,
            patient_id,
            body.time_critical,
        )
        if row is None:
            raise NotFound("medication")
    return dict(row)


__all__ = ["router"]
