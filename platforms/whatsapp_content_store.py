"""Quick-reply Content SIDs kept in Postgres (``whatsapp_quick_reply_contents``).

Holds the :class:`~core.db.Database` rather than a pool, like
:class:`core.inbound_window.LastInboundLookup`, because senders are built before the pool opens.
The store never fails a send: when the database cannot be reached it knows nothing (``get`` is
None) and keeps nothing (``put`` returns the new SID), and the sender's in-process cache carries
on; the worst case is one more Content resource after the next restart.
"""

from __future__ import annotations

import logging

import asyncpg

from core.db import Database
from core.sql import query

log = logging.getLogger(__name__)

_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class PostgresContentStore:
    """A :class:`platforms.whatsapp_content.ContentStore` on the service database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def get(self, account_sid: str, layout_key: str) -> str | None:
        """The stored SID for the account and layout, or None."""
        pool = self._database.pool
        if pool is None:
            return None
        try:
            sid = await pool.fetchval(
                query("whatsapp_content", "get_content_sid"), account_sid, layout_key
            )
        except _DB_ERRORS as exc:
            log.warning("quick-reply content lookup failed", extra={"error": type(exc).__name__})
            return None
        return str(sid) if sid is not None else None

    async def put(self, account_sid: str, layout_key: str, content_sid: str) -> str:
        """Keep ``content_sid`` unless another process stored one first; the SID that is kept."""
        pool = self._database.pool
        if pool is None:
            return content_sid
        sql = query("whatsapp_content", "put_content_sid")
        try:
            kept = await pool.fetchval(sql, account_sid, layout_key, content_sid)
            if kept is None:  # the other row was committed after this statement's snapshot
                kept = await pool.fetchval(
                    query("whatsapp_content", "get_content_sid"), account_sid, layout_key
                )
        except _DB_ERRORS as exc:
            log.warning("quick-reply content not stored", extra={"error": type(exc).__name__})
            return content_sid
        return str(kept) if kept is not None else content_sid

    async def forget(self, account_sid: str, layout_key: str, content_sid: str) -> None:
        """Drop ``content_sid`` if it is still the stored one."""
        pool = self._database.pool
        if pool is None:
            return
        try:
            await pool.execute(
                query("whatsapp_content", "forget_content_sid"),
                account_sid,
                layout_key,
                content_sid,
            )
        except _DB_ERRORS as exc:
            log.warning("quick-reply content not forgotten", extra={"error": type(exc).__name__})


__all__ = ["PostgresContentStore"]
