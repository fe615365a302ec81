"""``POST /api/v1/appointments/{appointment_id}/outcome``: did the patient come?

A clinic records ``attended`` (stored as the appointment status ``completed``) or ``no_show`` once
the appointment has started; a mistaken outcome can be corrected the same way. A cancelled
appointment has no outcome. The statistics' no-show rates are built on these.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import Field

from core.sql import query
from medremind.web.api_v1.appointments import Appointment, appointment_json
from medremind.web.api_v1.common import Org, State, acting
from medremind.web.api_v1.models import BODY_ERRORS, CONFLICT, NOT_FOUND, RequestModel
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ApiError, NotFound

router = new_router("appointments")

OUTCOMES = {"attended": "completed", "no_show": "no_show"}


async def record_outcome(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    appointment_id: uuid.UUID,
    outcome: str,
    now: datetime,
) -> asyncpg.Record:
    """Set the outcome in the caller's transaction; audited (by the appointments' audit trigger,
    with the transaction's actor). Raises 404/409 as the API answers."""
    row = await conn.fetchrow(query("clinic_ops", "lock_appointment"), appointment_id, org_id)
    if row is None:
        raise NotFound("appointment")
    if row["status"] == "cancelled":
        raise ApiError(409, "the appointment was cancelled; it has no outcome")
    if row["starts_at"] > now:
        raise ApiError(
            409, "the appointment has not started yet; record its outcome from its start time on"
        )
    status = OUTCOMES[outcome]
    await conn.execute(
        query("clinic_ops", "set_appointment_outcome"), appointment_id, org_id, status
    )
    await conn.execute(query("clinic_ops", "withdraw_appointment_messages"), appointment_id, status)
    updated = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    assert updated is not None
    return updated


class OutcomeSet(RequestModel):
    outcome: Literal["attended", "no_show"] = Field(
        description="attended is stored as the status `completed`."
    )


@router.post(
    "/appointments/{appointment_id}/outcome",
    response_model=Appointment,
    summary="Record whether the patient attended (from the start time on)",
    operation_id="setAppointmentOutcome",
    responses={**BODY_ERRORS, **NOT_FOUND, **CONFLICT},
)
async def set_outcome(
    appointment_id: uuid.UUID, body: OutcomeSet, org_id: Org, state: State
) -> Any:
    """The appointment with its outcome; correctable the same way; audited."""
    async with acting(state.pool) as conn:
        row = await record_outcome(conn, org_id, appointment_id, body.outcome, state.clock())
    return appointment_json(row)
