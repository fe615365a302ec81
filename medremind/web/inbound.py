"""Store an inbound update before answering, then process it after the answer.

The provider gets its 200 only once the update is in ``inbound_messages`` (unique per channel and
provider id, so a retry or a replay is a no-op). Processing starts from a Starlette background
task after the response has been sent. By default that task hands the work to a detached asyncio
task, so the HTTP cycle ends at once and the connection can carry the provider's next update:
Telegram sends one update at a time per connection, and otherwise every acknowledgement would
wait for the previous update's Bot API round trips. Past ``MAX_DETACHED`` updates in flight the
background task processes inline instead, which slows acknowledgements down: backpressure rather
than an unbounded pile of tasks. A chat's updates wait for each other before they take a slot,
and past 64 of one chat in flight the rest wait, stored, for the sweep
(:mod:`medremind.web.chat_turns`), so one chat's flood holds up no other chat.

If the process dies before processing finishes, ``resume_unprocessed`` at the next start-up picks
the row up, so nothing is lost; and a web process that stays up takes such rows every
:data:`SWEEP_SECONDS` once they are :data:`STALE_SECONDS` old, so a process killed hard (kill -9,
out of memory, a machine lost) and never started again does not leave patients' answers waiting
for the next deploy. At shutdown, work in flight gets the grace period to finish.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from typing import Any

from starlette.background import BackgroundTask

from medremind.web.chat_turns import ChatKey
from medremind.web.metrics import INBOUND_PROCESSING_ERRORS, inbound_series
from medremind.web.state import WebState
from platforms.base import InboundEvent

logger = logging.getLogger(__name__)

# Processing an update takes milliseconds, seconds under backpressure: one still ``received`` after
# a minute was left by a process that died. Looked for twice a minute (one indexed query).
SWEEP_SECONDS = 30.0
STALE_SECONDS = 60.0

# Updates accepted but not yet processed before acknowledgements start to wait (backpressure).
MAX_DETACHED = 1024
# Updates processed at once. Each holds a pool connection for its turn and then makes Bot API
# calls; far more than the HTTP client's connection pool (64) only queues them in httpcore, whose
# queue handling costs CPU quadratic in its length.
MAX_CONCURRENT = 32
# Pool connections kept free of processing (a quarter of the pool, at least one), so that storing
# the next update before its 200 does not queue behind every turn in flight: the provider's
# acknowledgement latency stays short while processing runs flat out.
ACK_RESERVE_FRACTION = 0.25


def processing_capacity(pool_max: int) -> int:
    """Turns that may hold a pool connection at once, leaving the rest to acknowledgements."""
    reserve = max(1, int(pool_max * ACK_RESERVE_FRACTION))
    return max(1, min(MAX_CONCURRENT, pool_max - reserve))


async def accept(
    state: WebState, event: InboundEvent, raw_payload: dict[str, Any], *, nul_free: bool = False
) -> BackgroundTask | None:
    """Store ``event``; return the task that processes it, or None for a duplicate.

    ``nul_free``: the caller knows no string in ``event`` or ``raw_payload`` holds a NUL (a JSON
    body without ``\\u0000``), so the copy that strips them is skipped.
    """
    from bot.intake import store_inbound

    # PostgreSQL's text and jsonb hold no NUL; a provider retrying a 500 forever over one stray
    # NUL would be worse than dropping the character.
    if not nul_free:
        event = _without_nul(event)
        raw_payload = _without_nul(raw_payload)
    inbound_id = await store_inbound(state.pool, event, raw_payload, received_at=state.clock())
    channel = str(event.channel)
    if inbound_id is None:
        inbound_series(channel, "duplicate").inc()
        return None
    inbound_series(channel, "stored").inc()
    return BackgroundTask(after_response, state, inbound_id, event)


def _without_nul(value: Any) -> Any:
    """``value`` with NUL characters removed from every string in it."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, InboundEvent):
        changes = {
            name: _without_nul(getattr(value, name))
            for name in _EVENT_FIELDS
            if isinstance(getattr(value, name), str) and "\x00" in getattr(value, name)
        }
        return dataclasses.replace(value, **changes) if changes else value
    return value


_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(InboundEvent))


async def after_response(state: WebState, inbound_id: uuid.UUID, event: InboundEvent) -> None:
    """Run after the 200: detach the processing, or do it here when too much is in flight.

    ``event``: the update as stored, so that processing need not read it back (see
    :func:`bot.intake.process_inbound`). Its chat's turns run one at a time and wait for each
    other before taking a slot; a chat with too many waiting leaves this one to the sweep
    (:mod:`medremind.web.chat_turns`).
    """
    chat = (str(event.channel), event.chat_address)
    if not state.chat_turns.reserve(chat):
        # Stored and acknowledged: the sweep answers it once it is STALE_SECONDS old.
        inbound_series(chat[0], "left_to_sweep").inc()
        return
    if not state.detach_processing or len(state.processing) >= MAX_DETACHED:
        try:
            async with state.chat_turns.lock(chat):
                await process(state, inbound_id, event)
        finally:
            state.chat_turns.release(chat)
        return
    task = asyncio.create_task(
        _process_in_slot(state, chat, inbound_id, event), name=f"inbound-{inbound_id}"
    )
    state.processing.add(task)
    task.add_done_callback(state.processing.discard)
    # Also when the task is cancelled before it first runs (a shutdown's drain).
    task.add_done_callback(lambda _: state.chat_turns.release(chat))


async def _process_in_slot(
    state: WebState, chat: ChatKey, inbound_id: uuid.UUID, event: InboundEvent
) -> None:
    if state.processing_slots is None:
        state.processing_slots = asyncio.Semaphore(processing_capacity(state.settings.db_pool_max))
    async with state.chat_turns.lock(chat), state.processing_slots:
        await process(state, inbound_id, event)


async def process(
    state: WebState, inbound_id: uuid.UUID, event: InboundEvent | None = None
) -> None:
    """Run the conversation engine on one stored update; failures stay in the row for a retry."""
    if state.bot_context is None:
        # No conversation engine configured in this app: the row waits for one that has it.
        return
    from bot.intake import process_inbound

    try:
        await process_inbound(state.bot_context, inbound_id, event)
    except asyncio.CancelledError:
        raise
    except Exception:
        INBOUND_PROCESSING_ERRORS.inc()
        logger.exception(
            "processing an inbound update failed", extra={"inbound_id": str(inbound_id)}
        )


async def drain(state: WebState, grace_seconds: float) -> int:
    """Wait up to ``grace_seconds`` for updates in flight; cancel the rest, return their count.

    A cancelled update stays ``received`` and is resumed by the next process.
    """
    pending = set(state.processing)
    if pending:
        _, pending = await asyncio.wait(pending, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return len(pending)


async def resume(state: WebState, sweep_seconds: float = SWEEP_SECONDS) -> None:
    """Process updates an earlier process stored and did not finish: every one at start-up, then,
    every ``sweep_seconds``, those still ``received`` after :data:`STALE_SECONDS` (left by another
    web process that died). Runs until cancelled at shutdown."""
    if state.bot_context is None:
        return
    from bot.intake import resume_unprocessed

    older_than = 0.0
    while True:
        try:
            resumed = await resume_unprocessed(state.bot_context, older_than_seconds=older_than)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away: the next sweep tries again
            logger.warning(
                "resuming unprocessed inbound updates failed",
                extra={"error_type": type(exc).__name__},
            )
        else:
            if resumed and older_than:
                logger.warning(
                    "inbound updates left by a stopped process resumed", extra={"count": resumed}
                )
        older_than = STALE_SECONDS
        await asyncio.sleep(sweep_seconds)
