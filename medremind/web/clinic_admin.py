"""The dashboard's way to a clinic admin's changes that need the credentials key.

The dashboard (NextJS) never holds ``MEDREMIND_CREDENTIALS_KEY``: to save a provider account
its server first asks the database, as the signed-in clinician under RLS, for a one-time token
(``public.issue_clinic_admin_token()``, which refuses anyone but an admin of the clinic), then
sends the account here with ``Authorization: Bearer <token>``. The token is consumed on first
use and lasts two minutes; only its SHA-256 is stored. A client address that sent too many
unknown tokens is answered 429 without a query (:mod:`medremind.web.failed_credentials`).

    PUT    /clinic/provider-accounts/{channel}   check at the provider, encrypt, store
    DELETE /clinic/provider-accounts/{channel}   back to the default account

Errors are the app's JSON errors; an account the provider refuses is 422 naming the field.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.credentials import CredentialsKeyMissing
from core.sql import query
from medremind.provider_accounts import delete_account, save_account
from medremind.web import failed_credentials
from medremind.web.errors import ApiError, ValidationFailed
from medremind.web.json_input import UnsafeJson, decode
from medremind.web.state import web_state
from platforms.provider_accounts import ACCOUNT_CHANNELS, AccountProblem


@dataclass(frozen=True, slots=True)
class ClinicAdmin:
    """Who the token was issued to."""

    organization_id: uuid.UUID
    clinician_id: uuid.UUID

    @property
    def actor(self) -> str:
        """The audit log's actor."""
        return f"clinician:{self.clinician_id}"


async def _admin(request: Request) -> ClinicAdmin:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "an admin token is required (Authorization: Bearer <token>)")
    digest = hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
    # A client that sent too many unknown tokens gets its 429 here, before the query.
    row = await failed_credentials.checked_lookup(
        request,
        "admin_token",
        lambda: web_state(request).pool.fetchrow(query("accounts", "consume_admin_token"), digest),
    )
    if row is None:
        raise ApiError(401, "the admin token is unknown, used or expired; ask for a new one")
    return ClinicAdmin(row["organization_id"], row["clinician_id"])


def _channel(request: Request) -> str:
    channel = request.path_params["channel"]
    if channel not in {str(c) for c in ACCOUNT_CHANNELS}:
        raise ApiError(404, "no such account channel: use sms, whatsapp or email")
    return str(channel)


async def put_provider_account(request: Request) -> Response:
    """Check the account at the provider and store it encrypted; 200 with its masked view."""
    channel = _channel(request)
    admin = await _admin(request)
    try:
        fields = decode(await request.body())
    except UnsafeJson as exc:
        raise ApiError(400, exc.reason) from None
    if not isinstance(fields, dict):
        raise ApiError(400, "the body must be a JSON object of the account's fields")
    state = web_state(request)
    try:
        view = await save_account(
            state.pool,
            state.settings,
            state.secret_box,
            admin.organization_id,
            channel,
            fields,
            actor=admin.actor,
        )
    except AccountProblem as exc:
        raise ValidationFailed(exc.field, exc.reason) from None
    except CredentialsKeyMissing as exc:
        raise ApiError(503, str(exc)) from None
    if state.clinic_senders is not None:  # this process answers from it at once (a clinic bot)
        await state.clinic_senders.refresh()
    return JSONResponse(view)


async def delete_provider_account(request: Request) -> Response:
    """Remove the clinic's account for the channel: 204, or 404 when it had none."""
    channel = _channel(request)
    admin = await _admin(request)
    state = web_state(request)
    if not await delete_account(state.pool, admin.organization_id, channel, actor=admin.actor):
        raise ApiError(404, f"the clinic has no own {channel} account")
    if state.clinic_senders is not None:  # a removed bot is named in no invite from now on
        await state.clinic_senders.refresh()
    return Response(status_code=204)


ROUTES = [
    Route(
        "/clinic/provider-accounts/{channel}",
        put_provider_account,
        methods=["PUT"],
    ),
    Route(
        "/clinic/provider-accounts/{channel}",
        delete_provider_account,
        methods=["DELETE"],
    ),
]

__all__ = ["ROUTES", "delete_provider_account", "put_provider_account"]
