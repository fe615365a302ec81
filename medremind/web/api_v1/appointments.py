"""``/api/v1/appointments``: book, list, read, change (reschedule) and cancel appointments.

The web layer validates and scopes to the caller's organization; what follows from a booking
(confirmation, reminders at the offsets, notices on change) is the planner's, in
``scheduler.appointments``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import Query
from pydantic import BaseModel, Field, StrictInt

from core.logs import mark_sensitive
from core.sql import query
from medremind.web.api_v1 import planning
from medremind.web.api_v1.common import Org, State, acting, row_dict
from medremind.web.api_v1.fields import (
    ClinicianName,
    ExternalId,
    IsoDateTime,
    Location,
    QueryInt,
    not_past,
)
from medremind.web.api_v1.idempotency import Current, Idempotent
from medremind.web.api_v1.message_reach import no_consent
from medremind.web.api_v1.models import BODY_ERRORS, CONFLICT, NOT_FOUND, Page, RequestModel
from medremind.web.api_v1.pagination import Cursor, Limit, decode_cursor, page
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import AlreadyThere, ApiError, NotFound, ValidationFailed

router = new_router("appointments")

MAX_OFFSET_MINUTES = 30 * 24 * 60
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
AppointmentStatus = Literal[
    "scheduled", "confirmed", "reschedule_requested", "cancelled", "completed", "no_show"
]
Duration = Annotated[StrictInt, Field(ge=1, le=1440)]
Offsets = Annotated[
    list[Annotated[StrictInt, Field(ge=1, le=MAX_OFFSET_MINUTES)]],
    Field(max_length=10, description="Minutes before the start; default the clinic's."),
]


class AppointmentDetails(RequestModel):
    duration_minutes: Duration | None = None
    location: Location | None = None
    clinician_name: ClinicianName | None = None
    reminder_offsets: Offsets | None = None


class AppointmentCreate(AppointmentDetails):
    patient_id: uuid.UUID
    starts_at: IsoDateTime = Field(description="Not in the past.")
    external_id: ExternalId | None = None


class AppointmentUpdate(AppointmentDetails):
    """A new `starts_at` reschedules: old reminders cancelled, new ones planned."""

    starts_at: IsoDateTime | None = None


class Appointment(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    starts_at: datetime
    duration_minutes: int | None = None
    location: str | None = None
    clinician_name: str | None = None
    reminder_offsets: list[int] | None = None
    status: AppointmentStatus
    external_id: str | None = None
    created_at: datetime
    updated_at: datetime


class AppointmentFilter(RequestModel):
    patient_id: uuid.UUID | None = None
    status: AppointmentStatus | None = None
    from_: IsoDateTime | None = Field(None, alias="from", description="Starting at or after")
    to: IsoDateTime | None = Field(None, description="Starting before")
    limit: QueryInt = Limit
    cursor: str | None = Cursor


def appointment_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """An appointment as the API shows it."""
    return row_dict(row, OUTPUT_FIELDS)


def current_appointment(org_id: uuid.UUID) -> Current:
    """An idempotent replay's body: the appointment as it is now (cancelled, rescheduled)."""

    async def current(conn: asyncpg.Connection, first: Any) -> Any | None:
        row = await conn.fetchrow(query("web", "get_appointment"), uuid.UUID(first["id"]), org_id)
        return None if row is None else appointment_json(row)

    return current


def details(body: AppointmentDetails) -> dict[str, Any]:
    """The optional descriptive fields shared by create and update."""
    mark_sensitive(body.location, body.clinician_name)
    return {
        "duration_minutes": body.duration_minutes,
        "location": body.location,
        "clinician_name": body.clinician_name,
        "reminder_offsets": body.reminder_offsets,
    }


async def same_time_conflict(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime,
    external_id: str | None,
    field: str,
    moving: uuid.UUID | None = None,
) -> None:
    """409 when the patient already has a live appointment in the clinic at ``starts_at``
    (another than ``moving``, the appointment a reschedule moves there).

    A booking sent twice without an ``Idempotency-Key`` (a retry after a timeout, a sync job run
    again, a double click in the clinic's system) made two appointments, two confirmations and
    two sets of reminders for one visit. Nobody attends two visits of one clinic at one instant,
    so the second is refused, naming the first (``error.existing_id``, ``Location``) for the
    client to go on with (PATCH to change it). Two bookings the clinic's system keeps apart (each
    with its own ``external_id``) are both taken; a cancelled, completed or no-show one does not
    count. Locks the patient's bookings for the transaction, so concurrent copies queue here.
    """
    await conn.execute(query("web", "appointment_booking_lock"), patient_id)
    existing = await conn.fetchrow(
        query("web", "same_time_appointment"), org_id, patient_id, starts_at, external_id, moving
    )
    if existing is None:
        return
    raise AlreadyThere(
        f"this patient already has an appointment at this time ({existing['status']}, booked"
        f" {existing['created_at'].isoformat(timespec='seconds')}); error.existing_id is its id."
        " A booking sent again is refused so the patient is not told twice. To change that"
        " appointment, PATCH /api/v1/appointments/{id}; to replace it, cancel it first; for a"
        " second appointment at the same time, give each its own external_id",
        field=field,
        existing=existing["id"],
        location=f"/api/v1/appointments/{existing['id']}",
    )


async def book(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    patient_id: uuid.UUID,
    starts_at: datetime,
    info: Mapping[str, Any],
    external_id: str | None,
    now: datetime,
    *,
    start_field: str = "starts_at",
) -> asyncpg.Record:
    """Insert an appointment for a patient of ``org_id`` and let the planner take it from there
    (``start_field``: the request's name of the start, for a 409 of :func:`same_time_conflict`)."""
    consented = await conn.fetchval(query("web", "patient_consented"), patient_id, org_id)
    if consented is None:
        raise ValidationFailed("patient_id", "no such patient in your organization")
    if not consented:
        # Its confirmation and reminders would all be cancelled at send time (no consent).
        raise no_consent("the appointment")
    await same_time_conflict(conn, org_id, patient_id, starts_at, external_id, start_field)
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
    await planning.planned(conn, row["id"], now)
    return row


async def change(
    conn: asyncpg.Connection,
    org_id: uuid.UUID,
    appointment_id: uuid.UUID,
    starts_at: datetime | None,
    info: Mapping[str, Any],
    now: datetime,
    *,
    start_field: str = "starts_at",
) -> asyncpg.Record:
    """Apply an update; a new ``starts_at`` is a reschedule (old reminders out, new ones in),
    refused (409 on ``start_field``) onto another live appointment of the patient."""
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
    if starts_at is not None and starts_at != current["starts_at"]:
        # Moved onto another live appointment of the patient: the same visit twice.
        await same_time_conflict(
            conn,
            org_id,
            current["patient_id"],
            starts_at,
            current["external_id"],
            start_field,
            moving=appointment_id,
        )
        await planning.rescheduled(conn, appointment_id, starts_at, now)
    elif info.get("reminder_offsets") is not None:
        await planning.replanned(conn, appointment_id, now)
    row = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    assert row is not None
    return row


@router.post(
    "/appointments",
    status_code=201,
    response_model=Appointment,
    summary="Book an appointment (confirmation and reminders follow)",
    operation_id="createAppointment",
    responses={**BODY_ERRORS, **CONFLICT},
)
async def create_appointment(
    body: AppointmentCreate,
    org_id: Org,
    state: State,
    once: Idempotent,
) -> Any:
    """Booked."""
    now = state.clock()
    starts_at = not_past(body.starts_at, "starts_at", now)
    assert starts_at is not None
    info = details(body)

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        row = await book(conn, org_id, body.patient_id, starts_at, info, body.external_id, now)
        row = await conn.fetchrow(query("web", "get_appointment"), row["id"], org_id)
        return 201, appointment_json(row)

    return await once.run(work, current_appointment(org_id))


@router.get(
    "/appointments",
    response_model=Page[Appointment],
    summary="List appointments by start time, a page at a time",
    operation_id="listAppointments",
)
async def list_appointments(
    org_id: Org, state: State, params: Annotated[AppointmentFilter, Query()]
) -> Any:
    """Filtered by patient, status and a window of start times."""
    at, after = decode_cursor(params.cursor, "appointments")
    if params.from_ is not None and params.to is not None and params.from_ >= params.to:
        raise ValidationFailed("to", "must be after from")
    async with state.pool.acquire() as conn:
        rows = await conn.fetch(
            query("clinic_ops", "list_appointments"),
            org_id,
            at,
            after,
            params.patient_id,
            params.status,
            params.from_,
            params.to,
            params.limit + 1,
        )
    return page(rows, params.limit, "starts_at", appointment_json, listing="appointments")


@router.get(
    "/appointments/{appointment_id}",
    response_model=Appointment,
    summary="One appointment",
    operation_id="getAppointment",
    responses=NOT_FOUND,
)
async def get_appointment(appointment_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """The appointment."""
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    if row is None:
        raise NotFound("appointment")
    return appointment_json(row)


@router.patch(
    "/appointments/{appointment_id}",
    response_model=Appointment,
    summary="Change details or reschedule",
    operation_id="updateAppointment",
    responses={**BODY_ERRORS, **NOT_FOUND, **CONFLICT},
)
async def update_appointment(
    appointment_id: uuid.UUID, body: AppointmentUpdate, org_id: Org, state: State
) -> Any:
    """Updated; a new `starts_at` reschedules (old reminders out, new ones in, a notice)."""
    if not body.model_fields_set:
        raise ValidationFailed("body", "give at least one field to change")
    now = state.clock()
    starts_at = not_past(body.starts_at, "starts_at", now)
    info = details(body)
    async with acting(state.pool) as conn:
        row = await change(conn, org_id, appointment_id, starts_at, info, now)
    return appointment_json(row)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=Appointment,
    summary="Cancel (reminders withdrawn, the patient told)",
    operation_id="cancelAppointment",
    responses={**NOT_FOUND, **CONFLICT},
)
async def cancel_appointment(appointment_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """Cancelled."""
    async with acting(state.pool) as conn:
        current = await conn.fetchrow(
            query("web", "get_appointment") + " for update", appointment_id, org_id
        )
        if current is None:
            raise NotFound("appointment")
        if current["status"] in _FINAL:
            raise ApiError(409, f"the appointment is already {current['status']}")
        await planning.cancelled(conn, appointment_id, state.clock())
        row = await conn.fetchrow(query("web", "get_appointment"), appointment_id, org_id)
    return appointment_json(row)
