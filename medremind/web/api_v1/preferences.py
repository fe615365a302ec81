"""``/api/v1/patients/{patient_id}/preferences``: the clinic's side of a patient's preferences.

Per category (``medication``, ``appointments``, ``clinic_news``) the patient's own choice (made in
the bot's /settings; read only here), the clinic's choice and a channel; and the patient's
standing appointment reminder offsets. The patient's choice wins: a clinic may opt a patient out,
or in where the patient never chose, but never undo the patient's opt-out (``docs/preferences.md``).
Every change is audited by the database; upcoming appointment reminders are re-planned by the
worker within a planner tick.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from core.sql import query
from medremind.web.api_v1.common import Org, State, acting
from medremind.web.api_v1.fields import Channel, PatientChannel
from medremind.web.api_v1.models import BODY_ERRORS, NOT_FOUND, RequestModel
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import NotFound

router = new_router("preferences")

Category = Literal["medication", "appointments", "clinic_news"]
Choice = Literal["in", "out"]
Offset = Annotated[int, Field(ge=5, le=20160, strict=True)]


class CategoryPreference(BaseModel):
    category: Category
    patient_choice: Choice | None = Field(description="The patient's own choice (wins)")
    clinic_choice: Choice | None
    channel: Channel | None = Field(description="Tried first for this category (else the order)")
    opted_out: bool = Field(description="What the planner and the dispatcher apply")


class Preferences(BaseModel):
    categories: list[CategoryPreference]
    appointment_reminder_offsets: list[int] | None = Field(
        description="The patient's standing offsets, minutes before (null: the clinic's)"
    )
    clinic_offsets: list[int]


class ClinicChoice(RequestModel):
    clinic_choice: Choice | None = Field(
        None, description="'out' opts the patient out; 'in' or null leave it to the patient"
    )
    channel: PatientChannel | None = None


class PreferencesUpdate(RequestModel):
    categories: dict[Category, ClinicChoice] = Field(
        default_factory=dict, description="Only the categories given change"
    )
    appointment_reminder_offsets: (
        Annotated[list[Offset], Field(min_length=1, max_length=6)] | None
    ) = Field(
        None,
        description="Minutes before each appointment (5 to 20160); null for the clinic's; "
        "left out: unchanged",
    )


async def _read(conn: Any, patient_id: uuid.UUID, org_id: uuid.UUID) -> dict[str, Any]:
    row = await conn.fetchrow(query("web", "patient_preferences"), patient_id, org_id)
    if row is None:
        raise NotFound("patient")
    return {
        "categories": row["categories"],
        "appointment_reminder_offsets": row["appointment_reminder_offsets"],
        "clinic_offsets": row["clinic_offsets"],
    }


@router.get(
    "/patients/{patient_id}/preferences",
    response_model=Preferences,
    summary="A patient's message preferences: the patient's choice, the clinic's, channels",
    operation_id="getPreferences",
    responses=NOT_FOUND,
)
async def get_preferences(patient_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """Every category, with what applies (`opted_out`)."""
    async with state.pool.acquire() as conn:
        return await _read(conn, patient_id, org_id)


@router.put(
    "/patients/{patient_id}/preferences",
    response_model=Preferences,
    summary="Set the clinic's choices, channels and the standing reminder offsets",
    operation_id="putPreferences",
    responses={**BODY_ERRORS, **NOT_FOUND},
)
async def put_preferences(
    patient_id: uuid.UUID, body: PreferencesUpdate, org_id: Org, state: State
) -> Any:
    """The clinic's choice can never undo the patient's own opt-out: the answer's `opted_out`
    says what applies."""
    async with acting(state.pool) as conn:  # the audit names the API key
        await _read(conn, patient_id, org_id)  # 404 for another clinic's patient
        for category, choice in body.categories.items():
            await conn.execute(
                query("web", "set_clinic_preference"),
                patient_id,
                category,
                choice.clinic_choice,
                choice.channel,
                "api",
            )
        if "appointment_reminder_offsets" in body.model_fields_set:
            offsets = body.appointment_reminder_offsets
            await conn.execute(
                query("web", "set_patient_offsets"),
                patient_id,
                None if offsets is None else sorted(set(offsets), reverse=True),
            )
        return await _read(conn, patient_id, org_id)
