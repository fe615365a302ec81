"""``/api/v1/patients/{patient_id}/caregivers``: who is alerted when the patient misses a dose.

Each caregiver with what stops their alerts, so a clinic sees why a missed dose alerted nobody:
``opted_out_at`` (the caregiver sent STOP, /stop, or the carrier reports them opted out; only the
caregiver opts back in, with START) and ``unreachable_since`` (the bot blocked, the chat gone or
the number unable to receive; lifted when they write to the service), migration
20260101012200; ``awaiting_link_since`` (a Telegram chat id typed in before caregiver links,
awaiting the caregiver's own chat to open a link: migration 20260101014300). ``alerted``:
whether a missed dose alerts them now.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from core.sql import query
from medremind.web.api_v1.common import Org, State
from medremind.web.api_v1.models import NOT_FOUND
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import NotFound

router = new_router("caregivers")


class Caregiver(BaseModel):
    id: uuid.UUID
    name: str
    channel: str
    address: str
    alert_delay_minutes: int
    share_details: bool = Field(description="Alerts may name the medicine (the patient's consent)")
    active: bool
    opted_out_at: datetime | None = Field(
        description="The caregiver opted out (STOP, /stop, the carrier): no alerts until START"
    )
    unreachable_since: datetime | None = Field(
        description="A permanent error (bot blocked, invalid number): no alerts until they write"
    )
    awaiting_link_since: datetime | None = Field(
        default=None,
        description="A Telegram chat id typed in before caregiver links: no alerts (each one"
        " is recorded cancelled with the reason) until the caregiver's own chat opens the fresh"
        " link the patient was sent; that makes a new caregiver row and this one inactive",
    )
    alerted: bool = Field(description="Whether a missed dose alerts this caregiver now")


@router.get(
    "/patients/{patient_id}/caregivers",
    response_model=dict[str, list[Caregiver]],
    summary="A patient's caregivers and whether they are alerted",
    operation_id="listCaregivers",
    responses=NOT_FOUND,
)
async def list_caregivers(patient_id: uuid.UUID, org_id: Org, state: State) -> Any:
    """Every caregiver of the patient, oldest first, with what stops their alerts."""
    async with state.pool.acquire() as conn:
        if await conn.fetchrow(query("web", "get_patient"), patient_id, org_id) is None:
            raise NotFound("patient")
        rows = await conn.fetch(query("web", "patient_caregivers"), patient_id)
    return {"data": [dict(r) for r in rows]}
