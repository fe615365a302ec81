"""LISTEN for ``medremind_due`` on a dedicated connection and wake the dispatcher.

The schema's statement trigger sends one NOTIFY per insert/update statement that makes rows due
within five minutes; the payload is the earliest due time (ISO 8601, UTC) and carries no PHI. The
connection is checked every ``keepalive`` seconds and re-established after a loss (a database
restart); every (re)connect wakes the dispatcher once, since notifications sent while we were
away are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

logger = logging.getLogger(__name__)

CHANNEL = "medremind_due"
_RETRY_MAX_SECONDS = 5.0


def parse_due(payload: str) -> datetime | None:
    """The notification's due time, or None when it is not a timestamp."""
    try:
        return datetime.fromisoformat(payload)
    except ValueError:
        return None


class DueListener:
    """Keeps a LISTEN connection open and calls ``on_due(due)`` for each notification."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        on_due: Callable[[datetime | None], None],
        *,
        channel: str = CHANNEL,
        keepalive: float = 5.0,
    ) -> None:
        self._connect = connect
        self._on_due = on_due
        self._channel = channel
        self._keepalive = keepalive
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Make :meth:`run` return; idempotent."""
        self._stop.set()

    def _callback(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_due(parse_due(payload))

    async def run(self) -> None:
        """Listen until :meth:`stop`, reconnecting with backoff."""
        failures = 0
        while not self._stop.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._connect()
                lost = asyncio.Event()
                # Learn of a dropped connection at once, not at the next keepalive.
                conn.add_termination_listener(lambda _c, event=lost: event.set())
                await conn.add_listener(self._channel, self._callback)
                failures = 0
                self._on_due(None)  # catch up on anything announced while we were away
                while not self._stop.is_set():
                    if lost.is_set() or conn.is_closed():
                        raise asyncpg.InterfaceError("the LISTEN connection was closed")
                    stop_or_lost = asyncio.ensure_future(_first(self._stop, lost))
                    try:
                        await asyncio.wait_for(stop_or_lost, timeout=self._keepalive)
                    except TimeoutError:
                        await asyncio.wait_for(conn.execute("select 1"), timeout=self._keepalive)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                failures += 1
                delay = min(_RETRY_MAX_SECONDS, 0.1 * 2**failures)
                logger.warning(
                    "listen connection lost; reconnecting",
                    extra={"error": type(exc).__name__, "retry_in": delay},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
            finally:
                if conn is not None and not conn.is_closed():
                    await _close(conn)


async def _first(*events: asyncio.Event) -> None:
    """Return when any of ``events`` is set."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(conn.close(), timeout=2)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        conn.terminate()
