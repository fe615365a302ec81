"""``/api/v1/waitlist``: patients waiting for an earlier appointment, with the times that suit
them (days of the week, a wall-clock window in the patient's timezone, the length they need).

A cancelled upcoming appointment's slot is offered to the fitting ones (``scheduler.waitlist``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from pydantic import BaseModel, Field, StrictInt

from core.sql import query
from medremind.web.api_v1.common import Org, State, row_dict
from medremind.web.api_v1.fields import ClockTime, Note, clock_text
from medremind.web.api_v1.message_reach import no_consent
from medremind.web.api_v1.models import BODY_ERRORS, CONFLICT, NOT_FOUND, DataList, RequestModel
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import AlreadyThere, NotFound, ValidationFailed

router = new_router("waitlist")

FIELDS = (
    "id",
    "patient_id",
    "days_of_week",
    "earliest",
    "latest",
    "duration_minutes",
    "note",
    "status",
    "booked_appointment_id",
    "created_at",
)


class WaitlistCreate(RequestModel):
    """When an upcoming appointment is cancelled, its slot is offered (Accept / No thanks) to the
    fitting waiting patients; the first to accept is booked and the others are told it is gone."""

    patient_id: uuid.UUID
    days_of_week: (
        Annotated[
            list[Annotated[StrictInt, Field(ge=1, le=7)]],
            Field(
                min_length=1,
                max_length=7,
                description="ISO days that suit the patient (1 = Monday); default any day.",
            ),
        ]
        | None
    ) = None
    earliest: ClockTime | None = Field(
        None, description="In the patient's timezone; HH:MM: the appointment starts then or later"
    )
    latest: ClockTime | None = Field(
        None,
        description=(
            "The appointment must end by then; HH:MM. Before earliest: the next day (an"
            " overnight window, whose day in days_of_week is the one it starts on)"
        ),
    )
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=1440)] | None = None
    note: Note | None = None


class WaitlistEntry(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    days_of_week: list[int] | None = None
    earliest: str | None = Field(None, description="HH:MM")
    latest: str | None = Field(None, description="HH:MM")
    duration_minutes: int | None = None
    note: str | None = None
    status: Literal["waiting", "booked", "removed"]
    booked_appointment_id: uuid.UUID | None = None
    created_at: datetime


def _json(row: Mapping[str, Any]) -> dict[str, Any]:
    data = row_dict(row, FIELDS)
    data["earliest"], data["latest"] = clock_text(row["earliest"]), clock_text(row["latest"])
    return data


@router.post(
    "/waitlist",
    status_code=201,
    response_model=WaitlistEntry,
    summary="Put a patient on the waitlist with the times that suit them",
    operation_id="addToWaitlist",
    responses={**BODY_ERRORS, **CONFLICT},
)
async def add_to_waitlist(body: WaitlistCreate, org_id: Org, state: State) -> Any:
    """Waiting."""
    if body.earliest is not None and body.earliest == body.latest:
        # No time at all or the whole day: neither is what two times say (migration 019470).
        raise ValidationFailed(
            "latest",
            "is the same time as earliest, a window of no length: leave both out for any hour,"
            " or give another time (one before earliest is on the next day: overnight)",
        )
    days = sorted(set(body.days_of_week)) if body.days_of_week is not None else None
    # One transaction: the patient's row stays locked from the check to the insert (an erasure
    # waits for it, or it for the erasure).
    async with state.pool.acquire() as conn, conn.transaction():
        consented = await conn.fetchval(query("web", "patient_consented"), body.patient_id, org_id)
        if consented is None:
            raise ValidationFailed("patient_id", "no such patient in your organization")
        if not consented:
            # The planner offers no slot to them (an offer would be cancelled at send, "no consent
            # recorded"), and an accepted offer books an appointment, refused for them too.
            raise no_consent("the waitlist entry")
        try:
            # A savepoint: after a duplicate, the transaction still reads the entry there.
            async with conn.transaction():
                row = await conn.fetchrow(
                    query("waitlist", "insert_entry"),
                    org_id,
                    body.patient_id,
                    days,
                    body.earliest,
                    body.latest,
                    body.duration_minutes,
                    body.note,
                )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != "waitlist_entries_one_per_patient":
                raise
            # Named, so a client that lost the first answer can go on with it (or remove it).
            entry = await conn.fetchval(
                query("waitlist", "waiting_entry_of_patient"), org_id, body.patient_id
            )
            raise AlreadyThere(
                "this patient is already on the waitlist (error.existing_id is the entry): to"
                " change what suits them, DELETE /api/v1/waitlist/{id} and add them again",
                field="patient_id",
                existing=entry,
                location="/api/v1/waitlist",
            ) from None
    if row is None:
        raise ValidationFailed("patient_id", "no such patient in your organization")
    return _json(row)


@router.get(
    "/waitlist",
    response_model=DataList[WaitlistEntry],
    summary="Who is waiting, first come first",
    operation_id="listWaitlist",
)
async def list_waitlist(org_id: Org, state: State) -> Any:
    """The waitlist."""
    async with state.pool.acquire() as conn:
        rows = await conn.fetch(query("waitlist", "list_entries"), org_id)
    return {"data": [_json(r) for r in rows]}


@router.delete(
    "/waitlist/{entry_id}",
    response_model=WaitlistEntry,
    summary="Take a patient off the waitlist",
    operation_id="removeFromWaitlist",
    responses=NOT_FOUND,
)
async def remove_from_waitlist(entry_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """No more offers for this entry."""
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow(query("waitlist", "remove_entry"), entry_id, org_id)
    if row is None:
        raise NotFound("waitlist entry")
    return _json(row)
