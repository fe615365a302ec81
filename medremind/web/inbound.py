"""Store an inbound update before answering, then process it after the answer.

The provider gets its 200 only once the update is in ``inbound_messages`` (unique per channel and
provider id, so a retry or a replay is a no-op). Processing runs as a Starlette background task
after the response; if the process dies in between, ``resume_unprocessed`` at the next start-up
picks the row up, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from starlette.background import BackgroundTask

from medremind.web.metrics import INBOUND_PROCESSING_ERRORS, INBOUND_UPDATES
from medremind.web.state import WebState
from platforms.base import InboundEvent

logger = logging.getLogger(__name__)


async def accept(
    state: WebState, event: InboundEvent, raw_payload: dict[str, Any]
) -> BackgroundTask | None:
    """Store ``event``; return the task that processes it, or None for a duplicate."""
    from bot.intake import store_inbound

    inbound_id = await store_inbound(state.pool, event, raw_payload)
    channel = str(event.channel)
    if inbound_id is None:
        INBOUND_UPDATES.labels(channel, "duplicate").inc()
        return None
    INBOUND_UPDATES.labels(channel, "stored").inc()
    return BackgroundTask(process, state, inbound_id)


async def process(state: WebState, inbound_id: uuid.UUID) -> None:
    """Run the conversation engine on one stored update; failures stay in the row for a retry."""
    if state.bot_context is None:
        # No conversation engine configured in this app: the row waits for one that has it.
        return
    from bot.intake import process_inbound

    try:
        await process_inbound(state.bot_context, inbound_id)
    except asyncio.CancelledError:
        raise
    except Exception:
        INBOUND_PROCESSING_ERRORS.inc()
        logger.exception(
            "processing an inbound update failed", extra={"inbound_id": str(inbound_id)}
        )


async def resume(state: WebState) -> None:
    """Process updates stored by an earlier process that did not finish them (start-up)."""
    if state.bot_context is None:
        return
    from bot.intake import resume_unprocessed

    try:
        await resume_unprocessed(state.bot_context)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("resuming unprocessed inbound updates failed")
