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

One caller's bad row fails that caller only. A reply whose patient was erased meanwhile (its
message deleted, its attempt's foreign key fails the statement) is dropped and counted, as the
dispatcher's record does (``scheduler.claims.without_erased``): nothing of the patient is kept.
Any other error the database raises for a shared statement is retried caller by caller, so the
callers whose rows are good are recorded and only the one at fault gets the error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import NamedTuple
from uuid import UUID

import asyncpg

from scheduler.claims import AttemptRow, Outcome, record, record_mended

logger = logging.getLogger(__name__)

# How long a flush waits for more outcomes while turns finish together (never when quiet).
LINGER_SECONDS = 0.005


class Recorded(NamedTuple):
    """What became of one caller's outcomes."""

    applied: int  # written: their lease still held
    erased: int  # dropped: their message was erased with its patient meanwhile


_Waiting = tuple[list[Outcome], list[AttemptRow], "asyncio.Future[Recorded]"]


class ReplyRecorder:
    """Writes the outcomes of concurrent callers in shared statements; one per pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._waiting: list[_Waiting] = []
        self._flusher: asyncio.Task[None] | None = None
        self._busy = False  # the last statement carried more than one caller's outcomes
        self.statements = 0  # for tests and benchmarks
        self.erased = 0  # outcomes dropped: their message was erased (tests, operators' logs)

    async def record(self, outcomes: Sequence[Outcome], attempts: Sequence[AttemptRow]) -> Recorded:
        """Write ``outcomes`` and ``attempts``; return how many outcomes were applied (their
        lease still held) and how many were dropped (their message erased). Raises what the
        statement of these outcomes alone raised."""
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
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
            try:
                await self._write(batch)
            except BaseException as exc:
                _fail(batch, exc)
                if not isinstance(exc, Exception):
                    raise

    async def _write(self, batch: list[_Waiting]) -> None:
        """Write ``batch`` in one statement; when the database refuses it, each caller alone."""
        try:
            applied, erased = await self._statement(
                [o for outcomes, _, _ in batch for o in outcomes],
                [a for _, attempts, _ in batch for a in attempts],
            )
        except asyncpg.PostgresError as exc:
            if len(batch) == 1:
                raise
            # A row of one caller (a constraint, a value) fails the statement of all: the good
            # callers' replies were sent and must be recorded, or each is sent again when its
            # lease runs out. A server-side failure of every statement fails each in turn.
            logger.warning(
                "shared reply record refused; recording its callers one by one",
                extra={"count": len(batch), "error_class": type(exc).__name__},
            )
            for one in batch:
                try:
                    await self._write([one])
                except Exception as alone:
                    _fail([one], alone)
            return
        for outcomes, _, future in batch:
            if not future.done():
                future.set_result(
                    Recorded(
                        sum(1 for o in outcomes if o.id in applied),
                        sum(1 for o in outcomes if o.id in erased),
                    )
                )

    async def _statement(
        self, outcomes: list[Outcome], attempts: list[AttemptRow]
    ) -> tuple[set[UUID], set[UUID]]:
        """The record statement; again without erased messages' rows, or with a NUL byte's texts
        scrubbed (``scheduler.claims.without_nul``), if it failed on one. Returns the applied
        outcomes' ids and the dropped (erased) ones'."""
        given = {o.id for o in outcomes}

        async def write(outcomes: list[Outcome], attempts: list[AttemptRow]) -> set[UUID]:
            self.statements += 1
            # The web's pool leaves plans to Postgres (no CUSTOM_PLANS).
            return await record(self.pool, outcomes, attempts, plan_once=False)

        applied, written = await record_mended(write, self.pool, outcomes, attempts)
        erased = given - {o.id for o in written}
        self.erased += len(erased)
        return applied, erased


def _fail(batch: list[_Waiting], exc: BaseException) -> None:
    """Give ``exc`` to the callers of ``batch`` still waiting."""
    for _, _, future in batch:
        if not future.done():
            future.set_exception(exc)


def _retrieved(future: asyncio.Future[Recorded]) -> None:
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
