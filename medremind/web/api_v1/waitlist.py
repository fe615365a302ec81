"""``/api/v1/waitlist``: patients waiting for an earlier appointment, with the times that suit
them (days of the week, a wall-clock window in the patient's timezone, the length they need).

A cancelled upcoming appointment's slot is offered to the fitting ones (``scheduler.waitlist``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from core.sql import query
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.common import (
    json_body,
    json_response,
    organization,
    path_uuid,
    row_dict,
)
from medremind.web.errors import ApiError, NotFound, ValidationFailed
from medremind.web.state import web_state

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
_CREATE_FIELDS = frozenset(
    {"patient_id", "days_of_week", "earliest", "latest", "duration_minutes", "note"}
)
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def _clock(body: Mapping[str, Any], field: str) -> time | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _CLOCK.fullmatch(value):
        raise ValidationFailed(field, "must be a time of day as HH:MM, e.g. 08:30")
    return time(int(value[:2]), int(value[3:]))


def _days(body: Mapping[str, Any]) -> list[int] | None:
    value = body.get("days_of_week")
    if value is None:
        return None
    if not isinstance(value, list) or not 1 <= len(value) <= 7:
        raise ValidationFailed("days_of_week", "must be a list of 1 to 7 ISO days (1 = Monday)")
    for i, day in enumerate(value):
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
            raise ValidationFailed(f"days_of_week[{i}]", "must be an integer from 1 to 7")
    return sorted(set(value))


def _json(row: Mapping[str, Any]) -> dict[str, Any]:
    data = row_dict(row, FIELDS)
    for field in ("earliest", "latest"):
        if row[field] is not None:
            data[field] = row[field].strftime("%H:%M")
    return data


async def add_to_waitlist(request: Request) -> Response:
    """``POST /api/v1/waitlist``: put a patient of yours on the waitlist."""
    org_id = await organization(request)
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _CREATE_FIELDS)
    patient_id = v.uuid_field(body, "patient_id")
    earliest, latest = _clock(body, "earliest"), _clock(body, "latest")
    if earliest is not None and latest is not None and earliest >= latest:
        raise ValidationFailed("latest", "must be later than earliest")
    days = _days(body)
    duration = v.integer(body, "duration_minutes", low=1, high=1440)
    note = v.string(body, "note", max_length=200)
    async with web_state(request).pool.acquire() as conn:
        try:
            row = await conn.fetchrow(
                query("waitlist", "insert_entry"),
                org_id,
                patient_id,
                days,
                earliest,
                latest,
                duration,
                note,
            )
        except asyncpg.UniqueViolationError:
            raise ApiError(409, "this patient is already on the waitlist") from None
    if row is None:
        raise ValidationFailed("patient_id", "no such patient in your organization")
    return json_response(_json(row), 201)


async def list_waitlist(request: Request) -> Response:
    """``GET /api/v1/waitlist``: who is waiting, first come first."""
    org_id = await organization(request)
    async with web_state(request).pool.acquire() as conn:
        rows = await conn.fetch(query("waitlist", "list_entries"), org_id)
    return json_response({"data": [_json(r) for r in rows]})


async def remove_from_waitlist(request: Request) -> Response:
    """``DELETE /api/v1/waitlist/{entry_id}``: no more offers for this entry."""
    org_id = await organization(request)
    entry_id = path_uuid(request, "entry_id", "waitlist entry")
    async with web_state(request).pool.acquire() as conn:
        row = await conn.fetchrow(query("waitlist", "remove_entry"), entry_id, org_id)
    if row is None:
        raise NotFound("waitlist entry")
    return json_response(_json(row))
