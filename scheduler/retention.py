"""Retention: delete what grows with every delivery or request once older than a configured age.

Run by ``medremind worker`` every hour (any number of workers: batches lock with SKIP LOCKED).
Batched deletes rather than partitions: a batch of ``BATCH`` rows is one short statement, so the
tables never stay locked long and a backlog drains over several runs; bench/dispatch.py scenario 9
measures the cost. What goes (:data:`PRUNERS`):

* finished messages with their delivery attempts (and rows hanging off them by cascade), by
  ``scheduled_time``;
* Twilio status callbacks (``delivery_status_events``), by arrival; those no recorded send
  carries after :data:`UNMATCHED_STATUS_DAYS` (a storm of unknown ids kept a row each);
* inbound updates already processed (their payloads hold what patients wrote), by arrival;
* outgoing webhook events whose deliveries are over, with those deliveries and their attempts;
* stored ``Idempotency-Key`` answers, after at most :data:`IDEMPOTENCY_KEY_DAYS`.

The audit log, dose history and appointments are records, not logs: they stay. A patient's
erasure deletes all of their rows whatever their age (migration 20260101008110).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from core.sql import query

BATCH = 2000
# A client retries a request within hours; a stored answer (it holds the created row) is kept
# this long at most, or the retention age when that is shorter.
IDEMPOTENCY_KEY_DAYS = 30
# A send is recorded within its lease (seconds), and a callback that came first is applied then:
# one still unapplied this long after it came matches no send of its signer and never will.
UNMATCHED_STATUS_DAYS = 2
_RUN_BUDGET_SECONDS = 20.0  # one run stops after this; the next hour's carries on
_STATEMENT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Pruner:
    """One table's batched delete: query(module, name) takes (before, batch), returns a count."""

    name: str
    module: str
    max_days: int | None = None  # kept at most this long whatever the retention age


PRUNERS = (
    Pruner("prune_finished", "dispatch"),
    Pruner("prune_status_events", "retention"),
    Pruner("prune_inbound", "retention"),
    Pruner("prune_webhook_events", "retention"),
    Pruner("prune_idempotency_keys", "retention", max_days=IDEMPOTENCY_KEY_DAYS),
    Pruner("prune_paid_usage", "retention"),
    Pruner("prune_unmatched_status_events", "retention", max_days=UNMATCHED_STATUS_DAYS),
)


async def prune_all(
    pool: asyncpg.Pool, now: datetime, retention_days: int, *, budget: float = _RUN_BUDGET_SECONDS
) -> dict[str, int]:
    """One retention run: ``{pruner name: rows deleted}``; ``retention_days`` 0 keeps everything.

    Batches go round-robin over the tables, so a backlog in one (the messages after retention
    is first turned on) does not keep the others growing; the run stops after ``budget`` seconds.
    """
    if retention_days <= 0:
        return {}
    deadline = time.monotonic() + budget
    removed = dict.fromkeys((p.name for p in PRUNERS), 0)
    left = list(PRUNERS)
    while left and time.monotonic() <= deadline:
        for pruner in list(left):
            days = min(retention_days, pruner.max_days or retention_days)
            deleted = await _batch(pool, pruner, now - timedelta(days=days))
            removed[pruner.name] += deleted
            if deleted < BATCH:
                left.remove(pruner)  # drained for this run
    return removed


async def prune_finished(
    pool: asyncpg.Pool, now: datetime, retention_days: int, *, budget: float = _RUN_BUDGET_SECONDS
) -> int:
    """Delete finished messages scheduled more than ``retention_days`` ago; return how many.

    ``retention_days`` 0 keeps everything.
    """
    return await prune_one(pool, PRUNERS[0], now, retention_days, budget=budget)


async def prune_one(
    pool: asyncpg.Pool,
    pruner: Pruner,
    now: datetime,
    retention_days: int,
    *,
    budget: float = _RUN_BUDGET_SECONDS,
) -> int:
    """Drain one table's old rows (batches until one comes back short, or ``budget`` seconds)."""
    if retention_days <= 0:
        return 0
    days = min(retention_days, pruner.max_days or retention_days)
    before = now - timedelta(days=days)
    deadline = time.monotonic() + budget
    total = 0
    while True:
        deleted = await _batch(pool, pruner, before)
        total += deleted
        if deleted < BATCH or time.monotonic() > deadline:
            return total


async def _batch(pool: asyncpg.Pool, pruner: Pruner, before: datetime) -> int:
    deleted: int = await pool.fetchval(
        query(pruner.module, pruner.name), before, BATCH, timeout=_STATEMENT_TIMEOUT_SECONDS
    )
    return deleted


__all__ = ["BATCH", "PRUNERS", "Pruner", "prune_all", "prune_finished", "prune_one"]
