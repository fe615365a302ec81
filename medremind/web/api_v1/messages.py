"""``/api/v1/messages``: create, list, get and cancel scheduled messages of the caller's clinic.

A created row is all the worker needs to send: it is a ``scheduled_messages`` row like those the
planner and the dashboard insert.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from core.logs import mark_sensitive
from core.records import MessageKind, MessageStatus
from core.sql import query
from medremind.web.api_v1 import templates as t
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.common import (
    json_body,
    json_response,
    organization,
    path_uuid,
    row_dict,
)
from medremind.web.api_v1.idempotency import run_idempotent
from medremind.web.errors import ApiError, NotFound, ValidationFailed
from medremind.web.state import web_state

MAX_TEXT_LENGTH = 4096  # Telegram's limit; SMS splitting is capped by MEDREMIND_SMS_MAX_SEGMENTS
MAX_PAGE = 200
_KINDS = tuple(k.value for k in MessageKind)
_STATUSES = tuple(s.value for s in MessageStatus)
_FIELDS = frozenset(
    {
        "patient_id",
        "text",
        "template",
        "kind",
        "variables",
        "platform",
        "scheduled_time",
        "expires_at",
        "priority",
        "urgent",
    }
)
OUTPUT_FIELDS = (
    "id",
    "patient_id",
    "status",
    "platform",
    "kind",
    "template",
    "scheduled_time",
    "expires_at",
    "priority",
    "urgent",
    "attempts",
    "last_error",
    "sent_at",
    "delivered_at",
    "channel_used",
    "created_at",
    "updated_at",
)


def message_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """A message as the API shows it (``text`` is ``message_content``)."""
    data = row_dict(row, OUTPUT_FIELDS)
    data["text"] = row["message_content"]
    data["variables"] = row["payload"].get("variables", {}) if row["payload"] else {}
    return data


def _variables(body: Mapping[str, Any]) -> dict[str, str]:
    value = body.get("variables")
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 50:
        raise ValidationFailed("variables", "must be an object of at most 50 string values")
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > 64 or len(item) > 1000:
            raise ValidationFailed(
                f"variables.{key}", "must be a string of at most 1000 characters"
            )
    return value


async def create_message(request: Request) -> Response:
    """``POST /api/v1/messages``: schedule a message for a patient of the caller's clinic."""
    org_id = await organization(request)
    state = web_state(request)
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _FIELDS)
    now = state.clock()
    patient_id = v.uuid_field(body, "patient_id")
    text = v.string(body, "text", max_length=MAX_TEXT_LENGTH)
    template = v.string(body, "template", max_length=100)
    if (text is None) == (template is None):
        raise ValidationFailed("text", "give exactly one of text or template")
    kind = v.choice(body.get("kind", "free_text"), "kind", _KINDS)
    variables = _variables(body)
    platform = v.choice(body.get("platform", "auto"), "platform", v.PLATFORMS)
    scheduled = v.datetime_field(body, "scheduled_time", now=now) or now
    expires = v.datetime_field(body, "expires_at", now=now)
    if expires is not None and expires <= scheduled:
        raise ValidationFailed("expires_at", "must be after scheduled_time")
    priority = v.integer(body, "priority", low=0, high=9, default=5)
    urgent = v.boolean(body, "urgent", default=False)
    # Message bodies never reach a log line, whatever logs them later (driver errors included).
    mark_sensitive(text, *variables.values())
    renderer = t.renderer_for(request)

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        if await conn.fetchval(query("web", "patient_exists"), patient_id, org_id) is None:
            raise ValidationFailed("patient_id", "no such patient in your organization")
        if template is not None:
            # The clinic's own template (valid for this kind) or a built-in one, else 422 now
            # rather than a failed row at send time.
            await t.check_message_template(conn, renderer, org_id, template, kind)
        row = await conn.fetchrow(
            query("web", "insert_message"),
            org_id,
            patient_id,
            text,
            template,
            kind,
            {"variables": variables} if variables else {},
            platform,
            scheduled,
            expires,
            priority,
            urgent,
            None,
        )
        return 201, message_json(row)

    return await run_idempotent(state.pool, request, org_id, body, work)


async def list_messages(request: Request) -> Response:
    """``GET /api/v1/messages``: newest first, filtered by ``status`` and ``patient_id``, paged."""
    org_id = await organization(request)
    params = request.query_params
    status = params.get("status")
    if status is not None:
        v.choice(status, "status", _STATUSES)
    patient_id: uuid.UUID | None = None
    if params.get("patient_id") is not None:
        patient_id = v.uuid_value(params["patient_id"], "patient_id")
    limit = _query_int(params.get("limit"), "limit", 1, MAX_PAGE, 50)
    offset = _query_int(params.get("offset"), "offset", 0, 1_000_000, 0)
    async with web_state(request).pool.acquire() as conn:
        rows = await conn.fetch(
            query("web", "list_messages"), org_id, status, patient_id, limit + 1, offset
        )
    more = len(rows) > limit
    return json_response(
        {
            "data": [message_json(r) for r in rows[:limit]],
            "next_offset": offset + limit if more else None,
        }
    )


def _query_int(raw: str | None, field: str, low: int, high: int, default: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(field, "must be an integer") from None
    if not low <= value <= high:
        raise ValidationFailed(field, f"must be between {low} and {high}")
    return value


async def get_message(request: Request) -> Response:
    """``GET /api/v1/messages/{message_id}``."""
    org_id = await organization(request)
    message_id = path_uuid(request, "message_id", "message")
    async with web_state(request).pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "get_message"), message_id, org_id)
    if row is None:
        raise NotFound("message")
    return json_response(message_json(row))


async def cancel_message(request: Request) -> Response:
    """``POST /api/v1/messages/{message_id}/cancel``: only a message still pending."""
    org_id = await organization(request)
    message_id = path_uuid(request, "message_id", "message")
    async with web_state(request).pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "cancel_message"), message_id, org_id)
        if row is None:
            current = await conn.fetchrow(query("web", "get_message"), message_id, org_id)
            if current is None:
                raise NotFound("message")
            raise ApiError(
                409, f"only a pending message can be cancelled; this one is {current['status']}"
            )
    return json_response(message_json(row))
