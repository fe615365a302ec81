"""A write that runs while its patient is being erased: the interleaving the erasure's races need.

``erase_patient`` locks the patient's row, deletes every row that points at them and leaves a
tombstone; a writer that read the patient as active a moment before waits for that lock. Here the
row is held as the erasure holds it until the write waits for a lock, then the patient is erased
and the erasure committed: deterministic, whatever the host's load.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg

T = TypeVar("T")


async def waiting_for_locks(admin_conn: asyncpg.Connection, count: int) -> None:
    """Return once ``count`` connections to this test's database wait for a lock."""
    async with asyncio.timeout(20):
        # admin_conn is in no transaction: each read is a fresh view of the activity.
        while (
            await admin_conn.fetchval(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                " and datname = current_database()"
            )
            < count
        ):
            await asyncio.sleep(0.05)


async def erased_while_waiting(
    database_url: str, admin_conn: asyncpg.Connection, patient_id: uuid.UUID, write: Awaitable[T]
) -> T:
    """``write``'s result (or its exception) when it runs while ``patient_id`` is being erased:
    the patient's row is held as ``erase_patient`` holds it until ``write`` waits for a lock,
    then erased and the erasure committed."""
    eraser = await asyncpg.connect(database_url)
    try:
        erasing = eraser.transaction()
        await erasing.start()
        await eraser.execute("select 1 from patients where id = $1 for update", patient_id)
        answer = asyncio.ensure_future(write)
        await waiting_for_locks(admin_conn, 1)
        await eraser.execute("select public.erase_patient($1, 'erasure', now())", patient_id)
        await erasing.commit()
    finally:
        await eraser.close()
    return await answer
