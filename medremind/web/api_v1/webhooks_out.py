"""``/api/v1/webhooks``: a clinic's outgoing webhook subscriptions and their delivery log.

``POST`` subscribes a URL to event types and answers the signing secret once (it is never shown
again); ``GET`` lists the clinic's subscriptions; ``DELETE`` stops one (pending deliveries are
cancelled; the log stays); ``POST .../secret`` replaces its signing secret (pending deliveries
are signed with the new one); ``GET .../deliveries`` shows each delivery with its attempts, a
page at a time by cursor. The worker's :mod:`scheduler.webhook_sender` delivers them.
"""

from __future__ import annotations

import base64
import secrets
import socket
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yarl
from fastapi import Query
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from core.credentials import CredentialsKeyMissing, seal_text
from core.sql import query
from medremind.web.api_v1.common import AdminOrg, State, jsonable, row_dict
from medremind.web.api_v1.fields import QueryInt, Trimmed
from medremind.web.api_v1.models import (
    BODY_ERRORS,
    CONFLICT,
    NOT_FOUND,
    DataList,
    Page,
    RequestModel,
)
from medremind.web.api_v1.pagination import DEFAULT_LIMIT, Cursor, decode_cursor, page
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import AlreadyThere, ApiError, NotFound, ValidationFailed
from medremind.web.state import WebState
from platforms.addresses import is_private

router = new_router("webhooks", admin=True)

EVENT_TYPES = (
    "message.status",
    "dose.answered",
    "appointment.replied",
    "contact.opted_out",
    "contact.opted_in",
)
EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]
MAX_SUBSCRIPTIONS = 20  # per clinic: each event is posted to every one of them
_FIELDS = ("id", "url", "description", "event_types", "created_at", "disabled_at")
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


def _url_written(url: str) -> str:
    """The endpoint's URL as the model checks it, or what is wrong with it (its field's 422,
    listed with the body's other problems). A pattern answered "must match the pattern
    ^https?://[^\\s@]+$", refused HTTPS://, and took a port past 65535, which every delivery then
    failed on. The scheme is stored in small letters, as the database's check wants it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise PydanticCustomError("invalid", "is not a valid URL") from None
    if not host or parts.scheme not in ("https", "http"):
        raise PydanticCustomError("invalid", "must be an absolute https:// (or http://) URL")
    if any(c.isspace() for c in url) or "@" in parts.netloc:
        raise PydanticCustomError("invalid", "must have no spaces and no user:password@")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise PydanticCustomError(
            "invalid", "has a port out of range: give one from 1 to 65535, or none"
        )
    try:
        # The worker posts with aiohttp, which reads the URL with yarl: a host it refuses (a
        # zero-width space or a soft hyphen inside the name) was subscribed, and every delivery
        # then failed on it, retried for a day and more.
        yarl.URL(url)
    except ValueError as exc:
        raise PydanticCustomError(
            "invalid",
            "cannot be posted to: {problem}; type the host name without it",
            {"problem": str(exc)},
        ) from None
    return parts.scheme + url[len(parts.scheme) :]


class WebhookCreate(RequestModel):
    """Events: message.status (sent, delivered, failed, expired, cancelled; not for the bot's
    replies in a chat), dose.answered, appointment.replied, contact.opted_out, contact.opted_in.
    Delivered at least once, signed, retried with backoff for about 30 hours."""

    url: Annotated[
        str,
        Trimmed,
        Field(
            min_length=1,
            max_length=2000,
            description="Your endpoint (https://, or http://); each event is POSTed to it as"
            " JSON. One subscription per URL.",
        ),
        AfterValidator(_url_written),
    ]
    event_types: Annotated[list[EventType], Field(min_length=1)] | None = Field(
        None, description="Default: every type."
    )
    description: Annotated[str, Trimmed, Field(min_length=1, max_length=200)] | None = None


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None = None
    event_types: list[EventType]
    created_at: datetime
    disabled_at: datetime | None = None


class WebhookCreated(Webhook):
    secret: str = Field(
        description=(
            "The signing secret (whsec_...), shown only here. Each POST carries webhook-id, "
            "webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of "
            "id.timestamp.body>), the Standard Webhooks convention."
        )
    )


class WebhookDelivery(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: EventType
    status: Literal["pending", "delivering", "delivered", "failed", "cancelled"]
    attempts: int
    next_attempt_at: datetime | None = Field(
        None,
        description="When it is tried (again); null once it is over (delivered, failed,"
        " cancelled).",
    )
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    created_at: datetime | None = None
    payload: dict[str, Any] = Field(description="What was POSTed: type, timestamp, data.")
    log: list[dict[str, Any]] | None = None


class DeliveryQuery(RequestModel):
    # Up to 200 a page, as before cursors (a client asking for 200 keeps working).
    limit: QueryInt = Field(DEFAULT_LIMIT, ge=1, le=200, description="Rows per page")
    cursor: str | None = Cursor


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _url(url: str, *, allow_private: bool) -> str:
    """``url`` (as the model checked it), unless it names a private address literally."""
    host = urlsplit(url).hostname or ""
    if not allow_private and _private_literal(host):
        # Every delivery would be refused (the worker checks each attempt) and retried for a day
        # and more: say so now. A name is resolved only when delivering (it may change).
        raise ValidationFailed(
            "url",
            "points to a private, loopback or link-local address, which this service does not"
            " post to; use your endpoint's public address (the operator may allow a clinic's"
            " network with MEDREMIND_WEBHOOK_ALLOW_PRIVATE=true)",
        )
    return url


def _idna_ascii(host: str) -> str:
    """``host`` in ASCII as ``socket.getaddrinfo`` encodes it (Python's ``idna`` codec), or as
    given when IDNA cannot encode it (the resolver then finds no address: not a literal)."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _private_literal(host: str) -> bool:
    """``localhost`` or an IP address that is not globally routable, as written in a URL.

    IPv4 in the shorthand forms the resolver also reads (``inet_aton``: ``127.1``,
    ``0x7f000001``, ``2130706433``, octal ``0177.0.0.1``) counts too: the worker's
    ``getaddrinfo`` turns them into 127.0.0.1 and refuses every delivery, while
    ``ipaddress`` takes only the dotted quad, so they were subscribed (201).
    """
    # As the resolver reads it: getaddrinfo encodes a name with IDNA first, which maps
    # full-width digits, ideographic full stops (U+3002) and circled letters to ASCII: 127.0.0.1
    # in full-width digits, or with U+3002 for its dots, is 127.0.0.1 to it. A name's root dot
    # ("localhost.", "10.0.0.1."): the resolver reads it as without one.
    host = _idna_ascii(host).removesuffix(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return is_private(host)
    except ValueError:  # a name, or IPv4 written another way
        pass
    try:
        packed = socket.inet_aton(host)
    except OSError:  # a name
        return False
    return is_private(socket.inet_ntoa(packed))


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    summary="Subscribe an endpoint of yours to events (the secret is shown once)",
    operation_id="createWebhook",
    responses={
        **BODY_ERRORS,
        **CONFLICT,
        503: {"description": "MEDREMIND_CREDENTIALS_KEY is not set: the secret cannot be stored"},
    },
)
async def create_webhook(body: WebhookCreate, org_id: AdminOrg, state: State) -> Any:
    """Subscribed; the answer holds the secret, once."""
    url = _url(body.url, allow_private=state.settings.webhook_allow_private)
    event_types = list(dict.fromkeys(body.event_types or EVENT_TYPES))
    secret, stored = _sealed_new_secret(state)
    async with state.pool.acquire() as conn, conn.transaction():
        # One at a time per clinic, so the cap holds under concurrent creates.
        await conn.execute("select pg_advisory_xact_lock(hashtext($1::text))", str(org_id))
        existing = await conn.fetch(query("webhooks", "list_subscriptions"), org_id)
        same = next((r for r in existing if r["url"] == url), None)
        if same is not None:
            # A create retried after a lost answer made a second subscription: every event
            # was POSTed twice, the second signed with a secret the client never got.
            raise AlreadyThere(
                "this URL is subscribed already (error.existing_id): each event would be"
                " POSTed to it twice. Its secret was shown when it was made; for a new one, POST"
                " /api/v1/webhooks/{id}/secret; to change its events, DELETE it and subscribe"
                " again",
                field="url",
                existing=same["id"],
                location=f"/api/v1/webhooks/{same['id']}",
            )
        if len(existing) >= MAX_SUBSCRIPTIONS:
            raise ApiError(409, f"a clinic may have at most {MAX_SUBSCRIPTIONS} webhooks")
        row = await conn.fetchrow(
            query("webhooks", "insert_subscription"),
            org_id,
            url,
            body.description,
            event_types,
            stored,
        )
        await conn.execute(
            query("web", "audit"), org_id, "api", "webhook.create", "webhook", str(row["id"])
        )
    return {**row_dict(row, _FIELDS), "secret": secret}


def _sealed_new_secret(state: WebState) -> tuple[str, str]:
    """A new secret and its stored (encrypted) form; 503 naming the key when none is set."""
    secret = new_secret()
    try:
        # Stored encrypted (MEDREMIND_CREDENTIALS_KEY); the worker opens it to sign.
        return secret, seal_text(state.secret_box, secret)
    except CredentialsKeyMissing as exc:
        raise ApiError(503, str(exc)) from None


@router.post(
    "/webhooks/{webhook_id}/secret",
    response_model=WebhookCreated,
    summary="Replace the signing secret (the new one is shown once); no event is lost",
    operation_id="rotateWebhookSecret",
    responses={
        **NOT_FOUND,
        503: {"description": "MEDREMIND_CREDENTIALS_KEY is not set: the secret cannot be stored"},
    },
)
async def rotate_secret(webhook_id: uuid.UUID, org_id: AdminOrg, state: State) -> Any:
    """The subscription with a new secret, shown once. Every attempt from now on is signed with
    it, those of deliveries already pending too (an attempt already in flight, up to 15 s, still
    carries the old one). Deleting and subscribing again cancelled the pending deliveries and
    missed the events raised in between."""
    secret, stored = _sealed_new_secret(state)
    async with state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(query("webhooks", "replace_secret"), webhook_id, org_id, stored)
        if row is None:
            raise NotFound("webhook")
        await conn.execute(
            query("web", "audit"), org_id, "api", "webhook.rotate_secret", "webhook", str(row["id"])
        )
    return {**row_dict(row, _FIELDS), "secret": secret}


@router.get(
    "/webhooks",
    response_model=DataList[Webhook],
    summary="Your active webhook subscriptions",
    operation_id="listWebhooks",
)
async def list_webhooks(org_id: AdminOrg, state: State) -> Any:
    """The clinic's active subscriptions (no secrets)."""
    async with state.pool.acquire() as conn:
        rows = await conn.fetch(query("webhooks", "list_subscriptions"), org_id)
    return {"data": [row_dict(r, _FIELDS) for r in rows]}


@router.delete(
    "/webhooks/{webhook_id}",
    response_model=Webhook,
    summary="Stop a subscription; its pending deliveries are cancelled",
    operation_id="deleteWebhook",
    responses=NOT_FOUND,
)
async def delete_webhook(webhook_id: uuid.UUID, org_id: AdminOrg, state: State) -> Any:
    """Stopped; the delivery log stays."""
    async with state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(query("webhooks", "disable_subscription"), webhook_id, org_id)
        if row is None:
            raise NotFound("webhook")
        await conn.execute(query("webhooks", "cancel_subscription_deliveries"), webhook_id)
        await conn.execute(
            query("web", "audit"), org_id, "api", "webhook.delete", "webhook", str(webhook_id)
        )
    return row_dict(row, _FIELDS)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=Page[WebhookDelivery],
    summary="The delivery log: newest first, each with its attempts, paged by cursor",
    operation_id="listWebhookDeliveries",
    responses=NOT_FOUND,
)
async def list_deliveries(
    webhook_id: uuid.UUID, org_id: AdminOrg, state: State, params: Annotated[DeliveryQuery, Query()]
) -> Any:
    """Newest first, with every attempt; ``next_cursor`` fetches the older ones."""
    listing = f"webhooks/{webhook_id}/deliveries"
    at, after = decode_cursor(params.cursor, listing)
    async with state.pool.acquire() as conn:
        if await conn.fetchrow(query("webhooks", "get_subscription"), webhook_id, org_id) is None:
            raise NotFound("webhook")
        rows = await conn.fetch(
            query("webhooks", "list_deliveries"), webhook_id, org_id, at, after, params.limit + 1
        )
    return page(rows, params.limit, "created_at", _delivery_json, listing=listing)


def _delivery_json(row: Any) -> dict[str, Any]:
    return {
        **row_dict(row, _DELIVERY_FIELDS),
        "payload": jsonable(row["payload"]),
        "log": row["log"],
    }
