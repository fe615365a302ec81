"""Push subscriptions kept in Postgres (``push_subscriptions``), for :class:`WebPushSender`.

Holds the :class:`~core.db.Database` rather than a pool (senders are built before the pool
opens), like :mod:`platforms.whatsapp_content_store`. Reading the devices is part of the send:
a database error there is transient (the dispatcher retries); bookkeeping after a send (retiring
a gone subscription, noting success) never fails the send: it is logged and the next send redoes
it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from core.db import Database
from core.sql import query
from platforms.base import TransientError
from platforms.webpush import Subscription

log = logging.getLogger(__name__)

_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class PostgresSubscriptionStore:
    """A :class:`platforms.webpush.SubscriptionStore` on the service database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def _pool(self) -> asyncpg.Pool:
        if self._database.pool is None:
            raise TransientError("webpush: the database is not started")
        return self._database.pool

    async def active(self, address: str) -> Sequence[Subscription]:
        """The contact point's live subscriptions."""
        try:
            rows = await self._pool().fetch(query("webpush", "active_subscriptions"), address)
        except _DB_ERRORS as exc:
            error = f"webpush: reading subscriptions failed ({type(exc).__name__})"
            raise TransientError(error) from exc
        return [Subscription(r["id"], r["endpoint"], r["p256dh"], r["auth"]) for r in rows]

    async def retire(self, subscription_id: UUID, reason: str) -> None:
        """Mark a subscription gone."""
        try:
            await self._pool().execute(
                query("webpush", "retire_subscription"), subscription_id, reason[:200]
            )
        except (*_DB_ERRORS, TransientError) as exc:
            log.warning("retiring a push subscription failed", extra={"error": type(exc).__name__})

    async def succeeded(self, subscription_ids: Sequence[UUID]) -> None:
        """Note the subscriptions that took a notification."""
        try:
            await self._pool().execute(
                query("webpush", "subscriptions_succeeded"), list(subscription_ids)
            )
        except (*_DB_ERRORS, TransientError) as exc:
            log.warning("noting push success failed", extra={"error": type(exc).__name__})
