"""Retention: delete finished messages and their delivery attempts older than a configured age.

Run by ``medremind worker`` every hour (any number of workers: batches lock with SKIP LOCKED).
Batched deletes rather than partitions: a batch of ``BATCH`` messages (and their attempts) is one
short statement, so the tables never stay locked long and a backlog drains over several runs;
bench/dispatch.py scenario 9 measures the cost per message. A patient's erasure deletes all of
their rows whatever their age (migration 20260101008110).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import asyncpg

from core.sql import query

BATCH = 2000
_RUN_BUDGET_SECONDS = 20.0  # one run stops after this; the next hour's carries on
_STATEMENT_TIMEOUT_SECONDS = 30.0


async def prune_finished(
    pool: asyncpg.Pool, now: datetime, retention_days: int, *, budget: float = _RUN_BUDGET_SECONDS
) -> int:
    """Delete finished messages scheduled more than ``retention_days`` ago; return how many.

    ``retention_days`` 0 keeps everything.
    """
    if retention_days <= 0:
        return 0
    before = now - timedelta(days=retention_days)
    deadline = time.monotonic() + budget
    total = 0
    while True:
        deleted: int = await pool.fetchval(
            query("dispatch", "prune_finished"), before, BATCH, timeout=_STATEMENT_TIMEOUT_SECONDS
        )
        total += deleted
        if deleted < BATCH or time.monotonic() > deadline:
            return total
