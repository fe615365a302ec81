"""What every ``/api/v1`` handler shares: the caller's organization, the JSON body, row output."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from medremind.api_keys import authenticate
from medremind.web.errors import ApiError, ValidationFailed
from medremind.web.state import web_state

# API bodies are small JSON documents; a FHIR resource is the largest we take.
MAX_BODY_BYTES = 256_000


async def organization(request: Request) -> uuid.UUID:
    """The organization of the request's API key; 401 when there is no valid key."""
    org_id = await authenticate(web_state(request).pool, request.headers.get("authorization"))
    if org_id is None:
        raise ApiError(401, "missing or invalid API key (Authorization: Bearer <key>)")
    return org_id


async def json_body(request: Request) -> Any:
    """The parsed JSON body; 415 for another media type, 400 for malformed JSON."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("application/json", "application/fhir+json"):
        raise ApiError(415, "send the body as application/json")
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "body is not valid JSON") from None
    where = nul_path(body)
    if where is not None:
        # PostgreSQL stores no NUL in text or jsonb; refuse it here rather than fail there.
        raise ValidationFailed(where or "body", "must not contain NUL characters")
    return body


def nul_path(value: Any, path: str = "") -> str | None:
    """The JSON path of the first string (or key) containing NUL, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = nul_path(item, f"{path}[{i}]")
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return path or "body"
            found = nul_path(item, child)
            if found is not None:
                return found
    return None


def path_uuid(request: Request, name: str, what: str) -> uuid.UUID:
    """A UUID path parameter; a malformed one is simply a resource that does not exist."""
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
