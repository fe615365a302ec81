"""``/api/v1/patients``: create a patient of the caller's clinic, read it, make invite links.

An invite is a random token; only its SHA-256 hash is stored (``patient_invites.token_hash``),
so the link works once, for a limited time, and a database reader cannot use it. The link is
``https://t.me/<bot>?start=<token>`` when the bot's username is known.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from core.logs import mark_sensitive
from core.sql import query
from medremind.web.api_v1 import validation as v
from medremind.web.api_v1.common import json_body, json_response, organization, path_uuid, row_dict
from medremind.web.api_v1.idempotency import run_idempotent
from medremind.web.errors import ApiError, NotFound
from medremind.web.state import web_state

_FIELDS = frozenset(
    {
        "display_name",
        "phone",
        "email",
        "timezone",
        "locale",
        "channel_order",
        "external_id",
        "consent",
    }
)
OUTPUT_FIELDS = (
    "id",
    "display_name",
    "locale",
    "timezone",
    "channel_order",
    "external_id",
    "status",
    "consent_at",
    "created_at",
    "erased_at",
    "erasure_reason",
)
# The tombstone's reason when the clinic asked for the erasure.
ERASED_BY_CLINIC = "deleted at the clinic's request"
# 24 random bytes: 32 URL-safe characters, within Telegram's 64-character start parameter.
INVITE_TOKEN_BYTES = 24
DEFAULT_INVITE_HOURS = 7 * 24
MAX_INVITE_HOURS = 30 * 24


def hash_invite_token(token: str) -> str:
    """The stored form of an invite token (hex SHA-256), for the bot to look it up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def patient_json(row: Any, contacts: list[Any]) -> dict[str, Any]:
    """A patient with its contact points."""
    data = row_dict(row, OUTPUT_FIELDS)
    data["contacts"] = [
        {
            "channel": c["channel"],
            "address": c["address"],
            "verified": c["verified"],
            "opted_out": c["opted_out_at"] is not None,
        }
        for c in contacts
    ]
    return data


async def create_patient(request: Request) -> Response:
    """``POST /api/v1/patients``."""
    org_id = await organization(request)
    state = web_state(request)
    body = v.require_object(await json_body(request))
    v.reject_unknown(body, _FIELDS)
    name = v.template_value(body, "display_name", "patient_name")
    phone = v.e164(body["phone"], "phone") if body.get("phone") is not None else None
    email = v.email(body["email"], "email") if body.get("email") is not None else None
    tz = v.timezone(body["timezone"], "timezone") if body.get("timezone") is not None else None
    loc = v.locale(body["locale"], "locale") if body.get("locale") is not None else None
    order = (
        v.channel_order(body["channel_order"], "channel_order")
        if body.get("channel_order") is not None
        else ["telegram"] + (["sms"] if phone else []) + (["email"] if email else [])
    )
    external_id = v.string(body, "external_id", max_length=100)
    consent = v.boolean(body, "consent", default=False)
    mark_sensitive(name, email)
    now = state.clock()

    async def work(conn: asyncpg.Connection) -> tuple[int, Any]:
        org = await conn.fetchrow(
            "select timezone, locale from organizations where id = $1", org_id
        )
        try:
            row = await conn.fetchrow(
                query("web", "insert_patient"),
                org_id,
                name,
                loc or org["locale"],
                tz or org["timezone"],
                order,
                external_id,
                now if consent else None,
                "active" if consent else "invited",
            )
        except asyncpg.UniqueViolationError:
            raise ApiError(
                409, "a patient with this external_id already exists", field="external_id"
            ) from None
        wanted: list[tuple[str, str]] = []
        if phone:
            wanted += [(c, phone) for c in ("sms", "whatsapp") if c in order]
            if not any(c in order for c in ("sms", "whatsapp")):
                wanted.append(("sms", phone))
        if email:
            wanted.append(("email", email))
        for channel, address in wanted:
            added = await conn.fetchval(
                query("web", "insert_contact_point"), row["id"], channel, address
            )
            if added is None:
                # Someone else's address: answered exactly as a new one (no existence oracle);
                # its owner is invited to join this clinic and decides (accepting merges).
                await conn.execute(
                    query("web", "invite_address_owner"), row["id"], channel, address, now
                )
        contacts = await conn.fetch(query("web", "patient_contacts"), row["id"])
        return 201, patient_json(row, list(contacts))

    return await run_idempotent(state.pool, request, org_id, body, work)


async def get_patient(request: Request) -> Response:
    """``GET /api/v1/patients/{patient_id}``: the patient, or the tombstone of an erased one."""
    org_id = await organization(request)
    patient_id = path_uuid(request, "patient_id", "patient")
    async with web_state(request).pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), patient_id, org_id)
        if row is None:
            raise NotFound("patient")
        contacts = await conn.fetch(query("web", "patient_contacts"), patient_id)
    return json_response(patient_json(row, list(contacts)))


async def erase_patient(request: Request) -> Response:
    """``DELETE /api/v1/patients/{patient_id}``: the clinic's erasure request.

    Every row about the patient goes (contact points, medicines, history, appointments,
    messages, stored chat texts); the record stays as a tombstone (status ``deleted``,
    ``erased_at``, ``erasure_reason``) without personal data, which is the answer. Repeating the
    request answers the same tombstone.
    """
    org_id = await organization(request)
    state = web_state(request)
    patient_id = path_uuid(request, "patient_id", "patient")
    async with state.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), patient_id, org_id)
        if row is None:
            raise NotFound("patient")
        if row["status"] != "deleted":
            await conn.execute(
                query("web", "erase_patient"), patient_id, ERASED_BY_CLINIC, state.clock()
            )
            await conn.execute(
                query("web", "audit"), org_id, "api", "patient.erased", "patient", str(patient_id)
            )
            row = await conn.fetchrow(query("web", "get_patient_or_tombstone"), patient_id, org_id)
    return json_response(patient_json(row, []))


async def create_invite(request: Request) -> Response:
    """``POST /api/v1/patients/{patient_id}/invites``: a one-time link for the patient's phone.

    Body (optional): ``{"expires_in_hours": 1..720}``, default a week.
    """
    org_id = await organization(request)
    state = web_state(request)
    patient_id = path_uuid(request, "patient_id", "patient")
    raw = await request.body()
    body = v.require_object(await json_body(request)) if raw.strip() else {}
    v.reject_unknown(body, frozenset({"expires_in_hours"}))
    hours = v.integer(
        body, "expires_in_hours", low=1, high=MAX_INVITE_HOURS, default=DEFAULT_INVITE_HOURS
    )
    token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    async with state.pool.acquire() as conn:
        if await conn.fetchrow(query("web", "get_patient"), patient_id, org_id) is None:
            raise NotFound("patient")
        invite = await conn.fetchrow(
            query("web", "insert_invite"),
            org_id,
            patient_id,
            hash_invite_token(token),
            state.clock() + timedelta(hours=hours or DEFAULT_INVITE_HOURS),
        )
    link = f"https://t.me/{state.bot_username}?start={token}" if state.bot_username else None
    return json_response(
        {
            "id": str(invite["id"]),
            "patient_id": str(patient_id),
            "token": token,
            "link": link,
            "expires_at": invite["expires_at"].isoformat(),
        },
        status=201,
    )
