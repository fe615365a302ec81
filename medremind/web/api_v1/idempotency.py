"""``Idempotency-Key``: a repeated create returns the first response instead of acting twice.

The first response is stored in ``api_idempotency_keys`` (per organization and key) in the same
transaction as the row it created, under a transaction-scoped advisory lock on the key, so two
concurrent requests with one key cannot both create. Reusing a key with a different body is a
client bug and answers 409 naming the header.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse

from core.sql import query
from medremind.web.errors import ApiError

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255

# Does the work on the given connection (inside the transaction); returns (status, body).
Work = Callable[[asyncpg.Connection], Awaitable[tuple[int, Any]]]


def fingerprint(request: Request, body: Any) -> str:
    """What identifies "the same request": method, path and the canonical JSON body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = f"{request.method} {request.url.path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def key_of(request: Request) -> str | None:
    """The ``Idempotency-Key`` header, validated, or None when absent."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            422, f"must be 1 to {MAX_KEY_LENGTH} printable characters", field="Idempotency-Key"
        )
    return key


async def run_idempotent(
    pool: asyncpg.Pool, request: Request, org_id: uuid.UUID, body: Any, work: Work
) -> JSONResponse:
    """Run ``work`` in a transaction, once per ``Idempotency-Key`` when the header is given."""
    key = key_of(request)
    async with pool.acquire() as conn, conn.transaction():
        if key is None:
            status, data = await work(conn)
            return JSONResponse(data, status_code=status)
        await conn.execute(query("web", "idempotency_lock"), str(org_id), key)
        stored = await conn.fetchrow(query("web", "idempotency_get"), org_id, key)
        print_ = fingerprint(request, body)
        if stored is not None:
            if stored["request_fingerprint"] != print_:
                raise ApiError(
                    409,
                    "this Idempotency-Key was already used with a different request",
                    field="Idempotency-Key",
                )
            return JSONResponse(
                stored["response_body"],
                status_code=stored["response_status"],
                headers={"Idempotent-Replayed": "true"},
            )
        status, data = await work(conn)
        await conn.execute(query("web", "idempotency_put"), org_id, key, print_, status, data)
    return JSONResponse(data, status_code=status)
