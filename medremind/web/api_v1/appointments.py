"""``/api/v1/appointments``: book, read, change (reschedule) and cancel appointments.

The web layer validates and scopes to the caller's organization; what follows from a booking
(confirmation, reminders at the offsets, notices on change) is the planner's, in
``scheduler.appointments``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from core.logs import mark_sensitive
from core.sql import query
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.common import json_body, json_response, organization, path_uuid, row_dict
from medremind.web.api_v1.idempotency import run_idempotent
from medremind.web.errors import ApiError, NotFound, ValidationFailed
from medremind.web.state import web_state

MAX_OFFSET_MINUTES = 30 * 24 * 60
_CREATE_FIELDS = frozenset(
    {
        "patient_id",
        "starts_at",
        "duration_minutes",
        "location",
        "clinician_name",
        "reminder_offsets",
        "external_id",
    }
)
_UPDATE_FIELDS = frozenset(
    {"starts_at", "duration_minutes", "location", "clinician_name", "reminder_offsets"}
)
OUTPUT_FIELDS = (
    "id",
    "patient_id",
    "starts_at",
    "duration_minutes",
    "location",
    "clinician_name",
    "reminder_offsets",
    "status",
    "external_id",
    "created_at",
    "updated_at",
)
_FINAL = frozenset({"cancelled", "completed", "no_show"})


def appointment_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """An appointment as the API shows it."""
    return row_dict(row, OUTPUT_FIELDS)


def details(body: Mapping[str, Any]) -> dict[str, Any]:
    """The optional descriptive fields shared by create and update."""
    offsets = body.get("reminder_offsets")
    result: dict[str, Any] = {
        "duration_minutes": v.integer(body, "duration_minutes", low=1, high=1440),
        "location": v.template_value(body, "location", "location"),
        "clinician_name": v.template_value(body, "clinician_name", "clinician_name"),
        "reminder_offsets": (
            v.int_list(offsets, "reminder_offsets", low=1, high=MAX_OFFSET_MINUTES)
            if offsets is not None
            else None
        ),
    }
    mark_sensitive(result["location"], result["clinician_name"])
    return result


async def book(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime,
    info: Mapping[str, Any],
    external_id: str | None,
    now: datetime,
) -> asyncpg.Record:
    """Insert an appointment for a patient of ``org_id`` and let the planner take it from there."""
    if await conn.fetchval(query("web", "patient_exists"), patient_id, org_id) is None:
        raise ValidationFailed("patient_id", "no such patient in your organization")
    row = await conn.fetchrow(
        query("web", "insert_appointment"),
        org_id,
        patient_id,
        starts_at,
        info.get("duration_minutes") or 30,
        info.get("location"),
        info.get("clinician_name"),
        info.get("reminder_offsets"),
        external_id,
    )
    from medremind.web.api_v1 import planning

    await planning.planned(conn, row["id"], now)
    return row


async def create_appointment(request: Request) -> Response:
    """``POST /api/v1/appointments``."""
    org_id = await organization(request)
    state = web_state(request)
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _CREATE_FIELDS)
    now = state.clock()
    patient_id = v.uuid_field(body, "patient_id")
    starts_at = v.datetime_field(body, "starts_at", now=now, required=True)
    info = details(body)
    external_id = v.string(body, "external_id", max_length=100)

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        assert patient_id is not None and starts_at is not None
        row = await book(conn, org_id, patient_id, starts_at, info, external_id, now)
        row = await conn.fetchrow(query("web", "get_appointment"), row["id"], org_id)
        return 201, appointment_json(row)

    return await run_idempotent(state.pool, request, org_id, body, work)


async def get_appointment(request: Request) -> Response:
    """``GET /api/v1/appointments/{appointment_id}``."""
    org_id = await organization(request)
    appointment_id = path_uuid(request, "appointment_id", "appointment")
    async with web_state(request).pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    if row is None:
        raise NotFound("appointment")
    return json_response(appointment_json(row))


async def change(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    appointment_id: uuid.UUID,
    starts_at: datetime | None,
    info: Mapping[str, Any],
    now: datetime,
) -> asyncpg.Record:
    """Apply an update; a new ``starts_at`` is a reschedule (old reminders out, new ones in)."""
    current = await conn.fetchrow(
        query("web", "get_appointment") + " for update", appointment_id, org_id
    )
    if current is None:
        raise NotFound("appointment")
    if current["status"] in _FINAL:
        raise ApiError(409, f"the appointment is {current['status']} and cannot change")
    await conn.execute(
        query("web", "update_appointment_details"),
        appointment_id,
        org_id,
        info.get("duration_minutes"),
        info.get("location"),
        info.get("clinician_name"),
        info.get("reminder_offsets"),
    )
    from medremind.web.api_v1 import planning

    if starts_at is not None and starts_at != current["starts_at"]:
        await planning.rescheduled(conn, appointment_id, starts_at, now)
    elif info.get("reminder_offsets") is not None:
        await planning.replanned(conn, appointment_id, now)
    row = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    assert row is not None
    return row


async def update_appointment(request: Request) -> Response:
    """``PATCH /api/v1/appointments/{appointment_id}``: change details or reschedule."""
    org_id = await organization(request)
    state = web_state(request)
    appointment_id = path_uuid(request, "appointment_id", "appointment")
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _UPDATE_FIELDS)
    if not body:
        raise ValidationFailed("body", "give at least one field to change")
    now = state.clock()
    starts_at = v.datetime_field(body, "starts_at", now=now)
    info = details(body)
    async with state.pool.acquire() as conn, conn.transaction():
        row = await change(conn, org_id, appointment_id, starts_at, info, now)
    return json_response(appointment_json(row))


async def cancel_appointment(request: Request) -> Response:
    """``POST /api/v1/appointments/{appointment_id}/cancel``: reminders withdrawn, notice sent."""
    org_id = await organization(request)
    state = web_state(request)
    appointment_id = path_uuid(request, "appointment_id", "appointment")
    async with state.pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow(
            query("web", "get_appointment") + " for update", appointment_id, org_id
        )
        if current is None:
            raise NotFound("appointment")
        if current["status"] in _FINAL:
            raise ApiError(409, f"the appointment is already {current['status']}")
        from medremind.web.api_v1 import planning

        await planning.cancelled(conn, appointment_id, state.clock())
        row = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    return json_response(appointment_json(row))
