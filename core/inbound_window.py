"""When a WhatsApp number last wrote to us, read from the stored inbound messages.

WhatsApp allows free-form messages only within 24 hours of the patient's last message; outside
it an approved template must be used. Every inbound update is stored (``inbound_messages``) before
it is acknowledged, registered patient or not, so that table is the truth for the window.
"""

from __future__ import annotations

from datetime import datetime

from core.db import Database
from core.sql import query


class LastInboundLookup:
    """``await lookup(number)``: the last inbound time of a bare E.164 WhatsApp number, or None.

    Holds the :class:`Database` rather than a pool because senders are built before the pool is
    opened; before it is, nothing is known and the sender keeps to templates.
    """

    def __init__(self, database: Database, channel: str = "whatsapp") -> None:
        self._database = database
        self._channel = channel

    async def __call__(self, number: str) -> datetime | None:
        pool = self._database.pool
        if pool is None:
            return None
        return await pool.fetchval(query("inbound", "last_inbound_at"), self._channel, number)
