"""Where the dispatcher's record runs: connections of its own, planned once, one statement each.

The record (``dispatch.sql: record``) is planned once per connection: its plan does not depend
on the values (a key probe per outcome), and planning it with the values took 0.4-0.6 ms of
Postgres CPU per call. The worker's pooled connections plan every statement with its values
(``core.db.CUSTOM_PLANS``), so on them the record ran in a transaction of its own that asked
for a generic plan locally: ``begin; set local ...``, the record, ``commit``: three round trips
per flush, each waiting for the event loop between two sends (issue 20).

With ``connect`` (``medremind worker``: ``Database.connect``) the records run on up to ``size``
connections of their own that ask for generic plans for their whole session: one statement
per flush, committed durably as it ends (the claims' commits do not wait for the disk; the
record's durable commit flushes every claim before it, ``scheduler/claim_session.py``). A
connection whose statement failed is dropped and another opened for the next record (a failure
may leave it half-open). Without ``connect``, each record runs on a pooled connection as
:func:`scheduler.claims.record` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from uuid import UUID

import asyncpg

from scheduler.claims import AttemptRow, Outcome, record, record_statement

_SESSION = "set plan_cache_mode = force_generic_plan"
_CLOSE_SECONDS = 2.0


class RecordSession:
    """``await session.record(outcomes, attempts)``: the ids whose lease held; see above."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        connect: Callable[[], Awaitable[asyncpg.Connection]] | None = None,
        *,
        size: int = 2,
    ) -> None:
        self.pool = pool
        self._connect = connect
        self._idle: list[asyncpg.Connection] = []
        self._room = asyncio.Semaphore(size)  # records in flight at once, one per connection

    async def record(
        self, outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]
    ) -> set[UUID]:
        """Apply outcomes and insert attempts (:func:`scheduler.claims.record`)."""
        if not outcomes and not attempts:
            return set()
        if self._connect is None:
            return await record(self.pool, outcomes, attempts)
        async with self._room:
            conn = await self._connection()
            try:
                applied = await record_statement(conn, outcomes, attempts)
            except BaseException:
                # A statement that failed or was cancelled may leave the connection half-open,
                # or (a lost answer) in a transaction: never reuse it.
                conn.terminate()
                raise
            self._idle.append(conn)
            return applied

    async def _connection(self) -> asyncpg.Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
        assert self._connect is not None
        conn = await self._connect()
        try:
            await conn.execute(_SESSION)
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def aclose(self) -> None:
        """Close the idle connections (a record after this opens one again); idempotent."""
        idle, self._idle = self._idle, []
        for conn in idle:
            await _close(conn)


async def _close(conn: asyncpg.Connection) -> None:
    if conn.is_closed():
        return
    try:
        await asyncio.wait_for(conn.close(), timeout=_CLOSE_SECONDS)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        conn.terminate()
