"""The lease reaper: rows whose worker died or stalled mid-send go back to ``pending``.

A returned row may have been sent already (the worker died after the send, before recording it):
that is the bounded duplicate of at-least-once delivery.
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from core.sql import query
from scheduler import metrics

logger = logging.getLogger(__name__)


async def reap_expired_leases(conn: asyncpg.Connection | asyncpg.Pool, now: datetime) -> int:
    """Return rows with ``locked_until < now`` to pending (or failed when out of attempts)."""
    rows = await conn.fetch(query("dispatch", "reap"), now)
    if rows:
        metrics.REAPED.inc(len(rows))
        logger.warning("returned expired leases", extra={"count": len(rows)})
    return len(rows)
