"""A clinic's priority-0 share cannot be reset or spent by a clinician (migration
20260101017650): the dashboard's re-send counts through ``public.take_priority_zero``, which runs
as its owner and counts only the signed-in clinician's own clinic; ``api_priority_zero_hours``
itself is not theirs to read or write (one who could delete the clinic's counts would get its
share back, and a row could name another clinic).

Real PostgreSQL, as a clinician is through PostgREST: role ``authenticated`` with JWT claims.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
import pytest

from tests import factories

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


async def _as_clinician(
    conn: asyncpg.Connection, clinician: object, sql: str, *args: object
) -> object:
    """``sql``'s first value as the clinician, in a transaction committed afterwards."""
    async with conn.transaction():
        await conn.execute("set local role authenticated")
        claims = json.dumps({"sub": str(clinician), "role": "authenticated"})
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        return await conn.fetchval(sql, *args)


async def test_a_clinician_counts_only_their_own_clinic_and_cannot_touch_the_counts(
    admin_conn: asyncpg.Connection,
) -> None:
    mine = await factories.create_organization(admin_conn)
    theirs = await factories.create_organization(admin_conn)
    clinician = (await factories.create_clinician(admin_conn, mine["id"], role="admin"))["id"]
    take = "select public.take_priority_zero($1, $2, 100, $2)"

    assert await _as_clinician(admin_conn, clinician, take, mine["id"], NOW) == 1
    # Another clinic's share: nothing counted, as if taken.
    assert await _as_clinician(admin_conn, clinician, take, theirs["id"], NOW) is None
    counts = dict(
        await admin_conn.fetch("select organization_id, messages from api_priority_zero_hours")
    )
    assert counts == {mine["id"]: 1}

    for statement in (
        "delete from api_priority_zero_hours",
        "select count(*) from api_priority_zero_hours",
        "update api_priority_zero_hours set messages = 0",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await _as_clinician(admin_conn, clinician, statement)
    assert await admin_conn.fetchval("select sum(messages) from api_priority_zero_hours") == 1
