"""Acting as a signed-in clinician in integration tests."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def as_clinician(
    conn: asyncpg.Connection, clinician_id: uuid.UUID
) -> AsyncIterator[asyncpg.Connection]:
    """The dashboard's (and PostgREST's) way in: role authenticated with the JWT claims."""
    async with conn.transaction():
        await conn.execute("set local role authenticated")
        claims = json.dumps({"sub": str(clinician_id), "role": "authenticated"})
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        yield conn
