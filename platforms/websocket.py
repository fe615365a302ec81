"""Live delivery to the patient app while it is open (``websocket``), from the worker.

The worker cannot reach a browser's socket: the web process holds it. So this sender offers the
message through Postgres (:mod:`core.sql` ``websocket``): when the patient has the app open (a
connection the web refreshed within :data:`ONLINE_SECONDS`), a ``websocket_deliveries`` row and a
NOTIFY; the web sends it to the patient's sockets and marks it delivered when the browser
acknowledges; this sender waits for that up to :data:`ACK_SECONDS`.

Offline (no open app) or no acknowledgement in time is a :class:`PermanentError` for this
message with no effect on the contact point: the dispatcher tries the patient's next channel
(``webpush``), which is what "online first, push when offline" means. The offer is withdrawn
either way, so a late acknowledgement cannot show a reminder that push also delivered (the
browser may still have drawn it: at-least-once, as everywhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from uuid import UUID

import asyncpg

from core.db import Database
from core.sql import query
from platforms.base import (
    Channel,
    OutboundMessage,
    PermanentError,
    Receipt,
    TransientError,
)

# A connection the web has not refreshed for this long belongs to a process that died.
ONLINE_SECONDS = 45.0
# How long an open app has to acknowledge before the reminder goes to the next channel.
ACK_SECONDS = 5.0
_POLL_SECONDS = 0.1
_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def socket_payload(message: OutboundMessage) -> dict[str, object]:
    """What the app receives: the text and the answer buttons (generic unless opted in)."""
    return {
        "text": message.text,
        "kind": message.kind,
        "options": [{"label": o.label, "data": o.data} for o in message.options],
    }


class WebSocketSender:
    """``ChannelSender`` for ``websocket``: the address is the contact point's opaque id."""

    channel = Channel.WEBSOCKET

    def __init__(
        self, database: Database, *, ack_seconds: float = ACK_SECONDS, poll: float = _POLL_SECONDS
    ) -> None:
        self._database = database
        self._ack_seconds = ack_seconds
        self._poll = poll

    def _pool(self) -> asyncpg.Pool:
        if self._database.pool is None:
            raise TransientError("websocket: the database is not started")
        return self._database.pool

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        """Offer ``message`` to the patient's open app and wait for its acknowledgement."""
        pool = self._pool()
        message_id = UUID(message.message_id) if message.message_id else None
        try:
            row = await pool.fetchrow(
                query("websocket", "offer_delivery"),
                address,
                socket_payload(message),
                ONLINE_SECONDS,
                message_id,
            )
        except _DB_ERRORS as exc:
            raise TransientError(f"websocket: offering failed ({type(exc).__name__})") from exc
        if row is None:
            raise PermanentError("websocket: the patient app is not open")
        delivery_id = row["id"]
        try:
            delivered = await self._wait(pool, delivery_id)
        finally:
            # A row left behind is harmless: the web only sends offers younger than a minute.
            with contextlib.suppress(*_DB_ERRORS):
                await asyncio.shield(
                    pool.execute(query("websocket", "withdraw_delivery"), delivery_id)
                )
        if not delivered:
            raise PermanentError(
                f"websocket: the open app did not acknowledge within {self._ack_seconds:g} s"
            )
        return Receipt(provider_message_id=f"ws:{delivery_id}", channel=Channel.WEBSOCKET)

    async def _wait(self, pool: asyncpg.Pool, delivery_id: UUID) -> bool:
        deadline = time.monotonic() + self._ack_seconds
        while True:
            try:
                if await pool.fetchval(query("websocket", "delivery_state"), delivery_id):
                    return True
            except _DB_ERRORS as exc:
                raise TransientError(f"websocket: {type(exc).__name__}") from exc
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self._poll)

    async def aclose(self) -> None:
        """Nothing to release (the database is the worker's)."""


__all__ = ["ACK_SECONDS", "ONLINE_SECONDS", "WebSocketSender", "socket_payload"]
