"""Each live worker's share of the messages due soon: prepared once per fleet, not per worker.

Before a peak every worker read ahead the patients of every message due within the minute,
rendered every one of them and claimed ahead whatever it could (issue 20): with two workers each
text was rendered twice (286 us of worker CPU a reminder against 223 with one), with ten ten
times. Now each worker says it is alive with its render-ahead pass, once a second
(``worker_presence``, ``dispatch.sql: fleet_share``), and learns how many workers were seen
within :data:`PRESENCE_SECONDS` and its rank among them by id. Its share is the messages whose
id, read as a number from its last two bytes, leaves its rank modulo that count (random in a
UUIDv4: the shares are even). It reads ahead, renders ahead and claims ahead only those.

Only the preparation is shared out, never a message: any worker claims any row that is due, so
a worker that died or stalls leaves its share to the others' claims at due time (rendered then,
as without a share), and the others take it over in their preparation once it is not seen for
:data:`PRESENCE_SECONDS`. Workers that disagree for a moment about who is alive prepare a message
twice or not at all; the send is the same either way. A worker that stops says so
(``leave_fleet``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from core.sql import query

logger = logging.getLogger(__name__)

# A worker not seen this long is taken for gone: its share goes to the others. A render-ahead
# pass says it is alive once a second, and a pass that renders a whole peak takes seconds.
PRESENCE_SECONDS = 15.0
# One small upsert and a count: bounded well below a pass's interval times the presence window.
_STATEMENT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Share:
    """The messages of rank ``rank`` among ``workers`` (the whole when alone or not known)."""

    rank: int = 0
    workers: int = 1

    def holds(self, message_id: UUID) -> bool:
        """Whether ``message_id`` is in this share (as the statements' filter decides)."""
        return (
            self.workers <= 1
            or int.from_bytes(message_id.bytes[14:16], "big") % self.workers == self.rank
        )

    @property
    def params(self) -> tuple[int | None, int | None]:
        """(rank, workers) for a statement's filter; (None, None): every message."""
        return (None, None) if self.workers <= 1 else (self.rank, self.workers)


WHOLE = Share()


class FleetShare:
    """The share of worker ``worker``: :data:`WHOLE` until :meth:`refresh` learns the fleet."""

    def __init__(self, worker: str, *, presence_seconds: float = PRESENCE_SECONDS) -> None:
        self.worker = worker
        self.presence_seconds = presence_seconds
        self.current: Share = WHOLE

    async def refresh(self, conn: asyncpg.Connection, horizon: float) -> datetime:
        """Say this worker is alive and learn its share; return the database's now plus
        ``horizon`` seconds (the render-ahead window's end, read in the same statement)."""
        row = await conn.fetchrow(
            query("dispatch", "fleet_share"),
            self.worker,
            self.presence_seconds,
            horizon,
            timeout=_STATEMENT_TIMEOUT_SECONDS,
        )
        assert row is not None
        share = Share(row["rank"], row["workers"])
        if share != self.current:
            logger.info("fleet share changed", extra={"rank": share.rank, "workers": share.workers})
            self.current = share
        upper: datetime = row["upper"]
        return upper

    async def leave(self, pool: asyncpg.Pool, seconds: float) -> None:
        """This worker stops: the others take its share at their next pass (best effort: if the
        database does not answer, they do once it is not seen for ``presence_seconds``)."""
        self.current = WHOLE
        try:
            async with asyncio.timeout(seconds):  # the pool's acquire too
                await pool.execute(query("dispatch", "leave_fleet"), self.worker)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            logger.info("could not leave the fleet", extra={"error": type(exc).__name__})
