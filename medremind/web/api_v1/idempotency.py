"""``Idempotency-Key``: a repeated create returns the first response instead of acting twice.

The first response is stored in ``api_idempotency_keys`` (per organization and key) in the same
transaction as the row it created, under a transaction-scoped advisory lock on the key, so two
concurrent requests with one key cannot both create. Reusing a key with a different body is a
client bug and answers 409 naming the header.

A replay answers the first response's status with ``Idempotent-Replayed: true`` and the
resource's *current* state when the operation names one (``current``): a message created, then
cancelled, replays as cancelled, never as the stale "pending" of the first answer, so a client
that retries after a lost answer acts on what is true now. When the resource is gone (deleted by
retention), the stored first response is answered, with ``Idempotent-Replayed: stored``. Erasing
a patient deletes the stored answers that name them (migration 20260101015410): a replay then
acts anew.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Header
from starlette.requests import Request
from starlette.responses import Response

from core.sql import query
from medremind.web.api_v1.common import Org, State, acting
from medremind.web.errors import ApiError

MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"

# The optional header of every create that may be repeated safely.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Repeat a create safely: the same key and body return the first response.",
    ),
]

# Does the work on the given connection (inside the transaction); returns (status, body).
Work = Callable[[asyncpg.Connection], Awaitable[tuple[int, Any]]]
# The current state of what the stored first response describes, or None when it is gone.
Current = Callable[[asyncpg.Connection, Any], Awaitable[Any | None]]


def fingerprint(request: Request, body: Any) -> str:
    """What identifies "the same request": method, path and the canonical JSON body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = f"{request.method} {request.url.path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checked(key: str) -> str:
    key = key.strip()
    if not key or not key.isprintable():
        raise ApiError(
            422, f"must be 1 to {MAX_KEY_LENGTH} printable characters", field="Idempotency-Key"
        )
    return key


@dataclass
class Idempotency:
    """A create's one-time run: what :func:`run_idempotent` needs, resolved by FastAPI."""

    pool: asyncpg.Pool
    request: Request
    response: Response
    org_id: uuid.UUID
    key: str | None

    async def run(self, work: Work, current: Current | None = None) -> Any:
        """Run ``work`` once per key (see :func:`run_idempotent`)."""
        return await run_idempotent(
            self.pool, self.request, self.response, self.org_id, self.key, work, current
        )


async def idempotency(
    request: Request, response: Response, org_id: Org, state: State, key: IdempotencyKey = None
) -> Idempotency:
    """FastAPI dependency: the request's ``Idempotency-Key`` and what running once needs."""
    return Idempotency(state.pool, request, response, org_id, key)


# A create handler's parameter ``once: Idempotent``; ``return await once.run(work)``.
Idempotent = Annotated[Idempotency, Depends(idempotency)]


async def run_idempotent(
    pool: asyncpg.Pool,
    request: Request,
    response: Response,
    org_id: uuid.UUID,
    key: str | None,
    work: Work,
    current: Current | None = None,
) -> Any:
    """Run ``work`` in a transaction, once per ``Idempotency-Key`` when one is given; sets the
    answer's status (and the replay header) on ``response`` and returns its body. A replay's
    body is ``current(conn, stored body)`` when that is not None (see the module docstring)."""
    body = await request.json()
    async with acting(pool) as conn:
        if key is None:
            status, data = await work(conn)
        else:
            key = _checked(key)
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
                status, data = stored["response_status"], stored["response_body"]
                now = await current(conn, data) if current is not None else None
                response.headers[REPLAYED_HEADER] = "stored" if now is None else "true"
                data = data if now is None else now
            else:
                status, data = await work(conn)
                await conn.execute(
                    query("web", "idempotency_put"), org_id, key, print_, status, data
                )
    response.status_code = status
    return data
