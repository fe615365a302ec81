"""Recording the outcomes of the web process's reply sends together (group commit).

Every turn that sent replies records what happened (``scheduler.claims.record``: the rows' status
and their attempt rows, guarded by the lease tokens). Recorded one statement per turn, that
statement is a round trip and a pool connection per button press. Here the turns that finish
while a record statement is in flight wait for the next one, which writes them all: one
statement per flush, batches growing with load and no delay when it is quiet (as the
dispatcher's flusher does). When the last statement carried several turns (presses are arriving
together), the next one waits :data:`LINGER_SECONDS` for more: a record statement costs the
database about as much fixed as for five more sends (bench/webhook_sql.py: record_reply,
record_5_replies), and the sends are already out. A caller returns once its own outcomes are
written (or failed to be: the leases then expire and the reaper hands the rows to the dispatcher).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg

from scheduler.claims import AttemptRow, Outcome, record

logger = logging.getLogger(__name__)

# How long a flush waits for more outcomes while turns finish together (never when quiet).
LINGER_SECONDS = 0.005


class ReplyRecorder:
    """Writes the outcomes of concurrent callers in shared statements; one per pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._waiting: list[tuple[list[Outcome], list[AttemptRow], asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._busy = False  # the last statement carried more than one caller's outcomes
        self.statements = 0  # for tests and benchmarks

    async def record(self, outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]) -> int:
        """Write ``outcomes`` and ``attempts``; return how many outcomes were applied (their
        lease still held). Raises what the statement raised."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)
        self._waiting.append((list(outcomes), list(attempts), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="reply-records")
        # Shielded: a caller cancelled at shutdown does not cancel the others' statement.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._waiting:
            if self._busy:
                await asyncio.sleep(LINGER_SECONDS)
            batch, self._waiting = self._waiting, []
            self._busy = len(batch) > 1
            self.statements += 1
            try:
                applied = await record(
                    self.pool,
                    [o for outcomes, _, _ in batch for o in outcomes],
                    [a for _, attempts, _ in batch for a in attempts],
                    # The web's pool leaves plans to Postgres (no CUSTOM_PLANS).
                    plan_once=False,
                )
            except BaseException as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for outcomes, _, future in batch:
                if not future.done():
                    future.set_result(sum(1 for o in outcomes if o.id in applied))


def _retrieved(future: asyncio.Future[int]) -> None:
    """Mark an error as seen: the caller may have been cancelled and never await it."""
    if not future.cancelled():
        future.exception()


# By id(pool): asyncpg's Pool takes no weak references. A recorder holds its pool, so an id is
# not reused while its entry lives; closed pools' entries go when another pool comes.
_RECORDERS: dict[int, ReplyRecorder] = {}


def recorder_for(pool: asyncpg.Pool) -> ReplyRecorder:
    """The process's recorder over ``pool``."""
    recorder = _RECORDERS.get(id(pool))
    if recorder is None or recorder.pool is not pool:
        for key, old in list(_RECORDERS.items()):
            if old.pool.is_closing():
                del _RECORDERS[key]
        recorder = _RECORDERS[id(pool)] = ReplyRecorder(pool)
    return recorder
