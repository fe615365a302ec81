"""``POST /api/v1/appointments/{appointment_id}/outcome``: did the patient come?

A clinic records ``attended`` (stored as the appointment status ``completed``) or ``no_show`` once
the appointment has started; a mistaken outcome can be corrected the same way. A cancelled
appointment has no outcome. The statistics' no-show rates are built on these.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from core.sql import query
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.appointments import appointment_json
from medremind.web.api_v1.common import json_body, json_response, organization, path_uuid
from medremind.web.errors import ApiError, NotFound, ValidationFailed
from medremind.web.state import web_state

OUTCOMES = {"attended": "completed", "no_show": "no_show"}


async def record_outcome(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    appointment_id: uuid.UUID,
    outcome: str,
    actor: str,
    now: datetime,
) -> asyncpg.Record:
    """Set the outcome in the caller's transaction; audited. Raises 404/409 as the API answers."""
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
    await conn.execute(
        query("clinic_ops", "audit"),
        org_id,
        actor,
        f"appointment.{outcome}",
        "appointment",
        str(appointment_id),
        {"from": row["status"]},
    )
    updated = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    assert updated is not None
    return updated


async def set_outcome(request: Request) -> Response:
    """``POST /api/v1/appointments/{appointment_id}/outcome`` with ``{"outcome": ...}``."""
    org_id = await organization(request)
    state = web_state(request)
    appointment_id = path_uuid(request, "appointment_id", "appointment")
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, frozenset({"outcome"}))
    outcome = body.get("outcome")
    if outcome not in OUTCOMES:
        raise ValidationFailed("outcome", "must be attended or no_show")
    async with state.pool.acquire() as conn, conn.transaction():
        row = await record_outcome(conn, org_id, appointment_id, str(outcome), "api", state.clock())
    return json_response(appointment_json(row))
