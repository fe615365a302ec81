"""``/api/v1/webhooks``: a clinic's outgoing webhook subscriptions and their delivery log.

``POST`` subscribes a URL to event types and answers the signing secret once (it is never shown
again); ``GET`` lists the clinic's subscriptions; ``DELETE`` stops one (pending deliveries are
cancelled; the log stays); ``GET .../deliveries`` shows each delivery with its attempts. The
worker's :mod:`scheduler.webhook_sender` delivers them.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from core.sql import query
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.common import (
    json_body,
    json_response,
    jsonable,
    organization,
    path_uuid,
    row_dict,
)
from medremind.web.errors import ApiError, NotFound, ValidationFailed
from medremind.web.state import web_state

EVENT_TYPES = (
    "message.status",
    "dose.answered",
    "appointment.replied",
    "contact.opted_out",
    "contact.opted_in",
)
_LIMIT = re.compile(r"[0-9]{1,3}")
MAX_SUBSCRIPTIONS = 20  # per clinic: each event is posted to every one of them
_FIELDS = ("id", "url", "description", "event_types", "created_at", "disabled_at")
_CREATE_FIELDS = frozenset({"url", "event_types", "description"})
_DELIVERY_FIELDS = (
    "id",
    "event_id",
    "event_type",
    "status",
    "attempts",
    "next_attempt_at",
    "last_status_code",
    "last_error",
    "delivered_at",
    "created_at",
)


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _url(body: Mapping[str, Any]) -> str:
    url = v.string(body, "url", required=True, max_length=2000)
    assert url is not None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValidationFailed("url", "is not a valid URL") from None
    if not host or parts.scheme not in ("https", "http"):
        raise ValidationFailed("url", "must be an absolute https:// (or http://) URL")
    if any(c.isspace() for c in url) or parts.username or parts.password:
        raise ValidationFailed("url", "must have no spaces and no user:password@")
    return url


def _event_types(body: Mapping[str, Any]) -> list[str]:
    value = body.get("event_types")
    if value is None:
        return list(EVENT_TYPES)
    if not isinstance(value, list) or not value:
        raise ValidationFailed("event_types", "must be a non-empty list of event types")
    for i, item in enumerate(value):
        if item not in EVENT_TYPES:
            raise ValidationFailed(f"event_types[{i}]", "must be one of " + ", ".join(EVENT_TYPES))
    return list(dict.fromkeys(value))


async def create_webhook(request: Request) -> Response:
    """``POST /api/v1/webhooks``: subscribe; the answer holds the secret, once."""
    org_id = await organization(request)
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _CREATE_FIELDS)
    url = _url(body)
    event_types = _event_types(body)
    description = v.string(body, "description", max_length=200)
    secret = new_secret()
    async with web_state(request).pool.acquire() as conn, conn.transaction():
        # One at a time per clinic, so the cap holds under concurrent creates.
        await conn.execute("select pg_advisory_xact_lock(hashtext($1::text))", str(org_id))
        existing = await conn.fetch(query("webhooks", "list_subscriptions"), org_id)
        if len(existing) >= MAX_SUBSCRIPTIONS:
            raise ApiError(409, f"a clinic may have at most {MAX_SUBSCRIPTIONS} webhooks")
        row = await conn.fetchrow(
            query("webhooks", "insert_subscription"), org_id, url, description, event_types, secret
        )
        await conn.execute(
            query("web", "audit"), org_id, "api", "webhook.create", "webhook", str(row["id"])
        )
    return json_response({**row_dict(row, _FIELDS), "secret": secret}, 201)


async def list_webhooks(request: Request) -> Response:
    """``GET /api/v1/webhooks``: the clinic's active subscriptions (no secrets)."""
    org_id = await organization(request)
    async with web_state(request).pool.acquire() as conn:
        rows = await conn.fetch(query("webhooks", "list_subscriptions"), org_id)
    return json_response({"data": [row_dict(r, _FIELDS) for r in rows]})


async def delete_webhook(request: Request) -> Response:
    """``DELETE /api/v1/webhooks/{webhook_id}``: stop it; its pending deliveries are cancelled."""
    org_id = await organization(request)
    webhook_id = path_uuid(request, "webhook_id", "webhook")
    async with web_state(request).pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(query("webhooks", "disable_subscription"), webhook_id, org_id)
        if row is None:
            raise NotFound("webhook")
        await conn.execute(query("webhooks", "cancel_subscription_deliveries"), webhook_id)
        await conn.execute(
            query("web", "audit"), org_id, "api", "webhook.delete", "webhook", str(webhook_id)
        )
    return json_response(row_dict(row, _FIELDS))


async def list_deliveries(request: Request) -> Response:
    """``GET /api/v1/webhooks/{webhook_id}/deliveries``: newest first, with every attempt."""
    org_id = await organization(request)
    webhook_id = path_uuid(request, "webhook_id", "webhook")
    raw_limit = request.query_params.get("limit", "50")
    if not _LIMIT.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= 200:
        raise ValidationFailed("limit", "must be an integer from 1 to 200")
    async with web_state(request).pool.acquire() as conn:
        if await conn.fetchrow(query("webhooks", "get_subscription"), webhook_id, org_id) is None:
            raise NotFound("webhook")
        rows = await conn.fetch(
            query("webhooks", "list_deliveries"), webhook_id, org_id, int(raw_limit)
        )
    data = [
        {**row_dict(r, _DELIVERY_FIELDS), "payload": jsonable(r["payload"]), "log": r["log"]}
        for r in rows
    ]
    return json_response({"data": data})
