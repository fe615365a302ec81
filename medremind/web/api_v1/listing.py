"""``GET /api/v1/patients`` (list and search) and ``GET /api/v1/appointments`` (with filters),
both paged by an opaque cursor.

A cursor is the last row's sort key, base64url-encoded: stable while rows are added (no skipped
or repeated rows, unlike offsets) and one index range scan per page whatever the depth.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from core.sql import query
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.appointments import appointment_json
from medremind.web.api_v1.common import json_response, organization
from medremind.web.api_v1.patients import patient_json
from medremind.web.errors import ValidationFailed
from medremind.web.state import web_state

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
PATIENT_STATUSES = ("invited", "active", "deleted")
APPOINTMENT_STATUSES = (
    "scheduled",
    "confirmed",
    "reschedule_requested",
    "cancelled",
    "completed",
    "no_show",
)


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The cursor after a row whose sort key is ``(at, row_id)``."""
    raw = json.dumps([at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime | None, uuid.UUID | None]:
    """``(at, id)`` of a cursor this API gave out; 422 for anything else."""
    if value is None:
        return None, None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        at, row_id = json.loads(raw)
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not 1970 <= parsed.year <= 9998:
            raise ValueError("not one of ours")
        return parsed, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor", "is not a cursor this API gave out") from None


def _params(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    for name in request.query_params:
        if name not in allowed:
            raise ValidationFailed(name, "unknown query parameter")
    return dict(request.query_params)


def _limit(params: dict[str, str]) -> int:
    raw = params.get("limit", str(DEFAULT_LIMIT))
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def _choice(params: dict[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    value = params.get(name)
    if value is not None and value not in choices:
        raise ValidationFailed(name, "must be one of " + ", ".join(choices))
    return value


def _page(rows: list[Any], limit: int, key: str, render: Any) -> dict[str, Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1][key], rows[-1]["id"]) if more else None
    return {"data": [render(r) for r in rows], "next_cursor": cursor}


async def list_patients(request: Request) -> Response:
    """``GET /api/v1/patients?q=&status=&limit=&cursor=``, oldest first."""
    org_id = await organization(request)
    params = _params(request, frozenset({"q", "status", "limit", "cursor"}))
    limit = _limit(params)
    status = _choice(params, "status", PATIENT_STATUSES)
    at, after = decode_cursor(params.get("cursor"))
    q = v.string(params, "q", max_length=200)
    # A name fragment matches literally: LIKE's wildcards in it are escaped.
    pattern = None if q is None else q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    async with web_state(request).pool.acquire() as conn:
        rows = await conn.fetch(
            query("clinic_ops", "list_patients"), org_id, at, after, pattern, status, limit + 1, q
        )
        contacts = {
            r["id"]: await conn.fetch(query("web", "patient_contacts"), r["id"])
            for r in rows[:limit]
        }
    return json_response(
        _page(rows, limit, "created_at", lambda r: patient_json(r, contacts[r["id"]]))
    )


async def list_appointments(request: Request) -> Response:
    """``GET /api/v1/appointments?patient_id=&status=&from=&to=&limit=&cursor=``, by start."""
    org_id = await organization(request)
    params = _params(request, frozenset({"patient_id", "status", "from", "to", "limit", "cursor"}))
    limit = _limit(params)
    status = _choice(params, "status", APPOINTMENT_STATUSES)
    at, after = decode_cursor(params.get("cursor"))
    patient_id = v.uuid_field(params, "patient_id", required=False)
    start = v.parse_datetime(params["from"], "from") if "from" in params else None
    end = v.parse_datetime(params["to"], "to") if "to" in params else None
    if start is not None and end is not None and start >= end:
        raise ValidationFailed("to", "must be after from")
    async with web_state(request).pool.acquire() as conn:
        rows = await conn.fetch(
            query("clinic_ops", "list_appointments"),
            org_id,
            at,
            after,
            patient_id,
            status,
            start,
            end,
            limit + 1,
        )
    return json_response(_page(rows, limit, "starts_at", appointment_json))
