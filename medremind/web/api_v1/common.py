"""What every ``/api/v1`` handler shares: the caller's organization, the JSON body, row output.

``Org`` is the dependency a handler declares to be authenticated: the organization of the
request's API key (401 without a valid key, 429 with ``Retry-After`` over the key's rate, or
from a client address that sent too many wrong keys: :mod:`medremind.web.failed_credentials`).
It is resolved once per request, before the body is read (:mod:`medremind.web.api_v1.routing`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import Request
from starlette.responses import JSONResponse

from medremind.api_keys import Caller, RateLimit, RateLimited, authenticate, key_prefix
from medremind.web import failed_credentials, json_input
from medremind.web.api_v1.key_refusal import refusal_reason
from medremind.web.errors import ApiError, ValidationFailed
from medremind.web.state import WebState, web_state

_ORG_KEY = "medremind.organization"
# The request's API key as the audit names it ("api_key:<prefix>"), set with its organization.
_ACTOR: ContextVar[str | None] = ContextVar("medremind_api_actor", default=None)
# Only for the OpenAPI document (the "Authorize" button of the docs page); the check is ours.
_BEARER = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")


async def authenticated_organization(request: Request) -> uuid.UUID:
    """The organization of the request's API key, checked once per request."""
    return (await authenticated_caller(request)).organization_id


async def authenticated_caller(request: Request) -> Caller:
    """The organization and role of the request's API key, checked once per request."""
    cached = request.scope.get(_ORG_KEY)
    if cached is not None:
        return cached
    state = web_state(request)
    settings = state.settings
    rate = (
        RateLimit(settings.api_rate_per_minute, settings.api_rate_burst)
        if settings.api_rate_per_minute > 0
        else None
    )
    header = request.headers.get("authorization")
    prefix = key_prefix(header)
    if prefix is None:  # no key to look up: refused as authenticate() would, at no cost
        raise ApiError(401, refusal_reason(request.headers), field="Authorization")
    # A client that sent too many wrong keys gets its 429 here, before any lookup.
    check = failed_credentials.admitted(request, "api_key", prefix)
    try:
        caller = await authenticate(state.pool, header, rate)
    except RateLimited as exc:
        check.succeeded()
        seconds = max(1, math.ceil(exc.retry_after))
        raise ApiError(
            429,
            f"this API key made more than {settings.api_rate_per_minute:g} requests a minute"
            f" (bursts of {settings.api_rate_burst}); retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        ) from None
    except BaseException:
        check.not_checked()  # not the key's fault (the database, a cancelled request)
        raise
    if caller is None:
        check.failed()
        raise ApiError(401, refusal_reason(request.headers), field="Authorization")
    check.succeeded()
    request.scope[_ORG_KEY] = caller
    _ACTOR.set(f"api_key:{prefix}")
    return caller


async def authenticated_admin(request: Request) -> uuid.UUID:
    """The organization of the request's API key when the key is an admin's; 403 otherwise."""
    caller = await authenticated_caller(request)
    if not caller.is_admin:
        raise ApiError(
            403,
            f"this API key's role is {caller.role}: the clinic's settings, templates, webhooks"
            " and provider accounts need an admin key (medremind apikey create --role admin)",
        )
    return caller.organization_id


def api_actor() -> str:
    """The request's API key as the audit log names it (``api_key:<prefix>``)."""
    return _ACTOR.get() or "api"


async def name_actor(conn: asyncpg.Connection) -> None:
    """Name the request's API key as the actor of ``conn``'s transaction: the audit triggers
    (migration 20260101009140) write it on every change of what a patient receives."""
    actor = _ACTOR.get()
    if actor is not None:
        await conn.execute("select set_config('medremind.actor', $1, true)", actor)


@asynccontextmanager
async def acting(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction whose actor is the request's API key (see name_actor)."""
    async with pool.acquire() as conn, conn.transaction():
        await name_actor(conn)
        yield conn


async def organization(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]
) -> uuid.UUID:
    """FastAPI dependency: see :func:`authenticated_organization`."""
    return await authenticated_organization(request)


async def admin_organization(
    request: Request, _: Annotated[uuid.UUID, Depends(organization)]
) -> uuid.UUID:
    """FastAPI dependency: see :func:`authenticated_admin`."""
    return await authenticated_admin(request)


# A handler parameter ``org_id: Org`` makes the route authenticated; ``org_id: AdminOrg`` makes
# it an admin key's only (403 for a clinician key).
Org = Annotated[uuid.UUID, Depends(organization)]
AdminOrg = Annotated[uuid.UUID, Depends(admin_organization)]


def state_of(request: Request) -> WebState:
    """The app's state (pool, settings, clock)."""
    return web_state(request)


State = Annotated[WebState, Depends(state_of)]


async def json_body(request: Request) -> Any:
    """The parsed JSON body; 415 for another media type, 413 past the route's size cap
    (:mod:`medremind.web.body_limit`), 400 for malformed or hostile JSON (too deep, a lone
    surrogate, a number out of range, a key given twice in one object), 422 for a NUL in a
    string, naming where it is."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in ("application/json", "application/fhir+json"):
        raise ApiError(415, "send the body as application/json")
    coding = request.headers.get("content-encoding", "identity").strip().lower()
    if coding != "identity":
        # Read as it came, a gzipped body was told "body is not UTF-8 JSON" (RFC 9110: 415).
        raise ApiError(
            415,
            f"Content-Encoding {coding[:40]} is not accepted: send the body uncompressed",
            field="Content-Encoding",
        )
    raw = await request.body()
    try:
        return json_input.decode(raw, nul=False, unique_keys=True)
    except json_input.UnsafeJson as exc:
        if exc.problem == "nul":
            # PostgreSQL stores no NUL in text or jsonb; refuse it here rather than fail there.
            raise ValidationFailed(exc.where or "body", exc.reason) from None
        charset = _charset(content_type)
        if exc.problem == "encoding" and charset not in (None, "utf-8", "utf8"):
            raise ApiError(
                415,
                f"the body is {charset[:40]}: send it as UTF-8 (charset=utf-8, or none)",
                field="Content-Type",
            ) from None
        raise ApiError(400, exc.reason, field=exc.where) from None


def _charset(content_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type, lower case; None without one."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def refuse_bad_query(request: Request) -> None:
    """422 naming the first query parameter whose value holds a NUL: PostgreSQL's text holds
    none, and a search term is passed to it as it came (``?q=%00`` was a 500). Also one given
    more than once: every parameter takes one value, and the last one silently won
    (``?status=active&status=invited`` listed the invited patients only)."""
    seen: dict[str, int] = {}
    for name, value in request.query_params.multi_items():
        if "\x00" in value:
            raise ValidationFailed(name, "must not contain NUL characters")
        seen[name] = seen.get(name, 0) + 1
    for name, times in seen.items():
        if times > 1:
            raise ValidationFailed(
                name,
                f"given {times} times; give it once (each query parameter takes one value:"
                " for several, make one request per value)",
            )


# Headers that take one value. Given twice, the first silently won: a create with two
# Idempotency-Keys was stored under the first, so a retry sending the second made it again.
SINGLE_HEADERS = ("Authorization", "Idempotency-Key", "Content-Type")


def refuse_repeated_headers(request: Request) -> None:
    """422 naming the first of :data:`SINGLE_HEADERS` the request gives more than once."""
    for name in SINGLE_HEADERS:
        times = len(request.headers.getlist(name))
        if times > 1:
            raise ValidationFailed(
                name,
                f"header given {times} times; send it once (it takes one value, and which one"
                " counts would be a guess)",
            )


def path_uuid(request: Request, name: str, what: str) -> uuid.UUID:
    """A UUID path parameter (the patient app's routes); a malformed one is simply a resource
    that does not exist."""
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        raise ApiError(404, f"{what} not found") from None


def jsonable(value: Any) -> Any:
    """Database values as JSON: UUIDs and times as strings."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def row_dict(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The chosen columns of a row, JSON-ready (internal columns never leave the server)."""
    return {f: jsonable(row[f]) for f in fields}


def json_response(data: Any, status: int = 200) -> JSONResponse:
    """A JSON answer."""
    return JSONResponse(data, status_code=status)
