"""Questions the bot itself asks about a dose or an appointment, recorded on the chat.

The worker records the question each reminder asks (``scheduler.questions``); a reply of the bot
that offers answers about a dose or an appointment records its own the same way, so the typed
answers it shows reach that dose or appointment (``bot.routing``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from bot.conversation import Turn
from core.sql import query


async def ask_question(
    turn: Turn,
    options: list[dict[str, Any]],
    *,
    dose_id: UUID | None = None,
    appointment_id: UUID | None = None,
) -> None:
    """Record ``options`` (``label``, ``data``, typed ``keys``) as the chat's newest question."""
    await turn.conn.execute(
        query("bot", "ask_question"),
        turn.conv.patient_id,
        turn.conv.channel.value,
        turn.conv.chat_address,
        dose_id,
        appointment_id,
        options,
        turn.now,
    )
