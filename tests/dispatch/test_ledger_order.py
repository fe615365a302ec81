"""The fleet ledger serves a worker's sends in the order they first asked, also after its
answer sent them away to come back later (issue 20: the claim hands time-critical doses over
first, and a bot's queue must keep them first). Real PostgreSQL."""

from __future__ import annotations

import asyncio

from core.db import Database
from platforms.base import Channel
from scheduler.fleet_limits import FleetLimiter


async def test_sends_start_in_the_order_they_first_asked(db: Database) -> None:
    assert db.pool is not None
    rate = 10.0  # 40 sends: four seconds of slots, most of them refused once and asked again
    limiter = FleetLimiter(
        db.pool, {Channel.TELEGRAM: "telegram:4242"}, {Channel.TELEGRAM: rate}, {}
    )
    started: list[int] = []

    async def send(n: int) -> None:
        ticket = await limiter.acquire(Channel.TELEGRAM, f"chat{n}", max_wait=20.0)
        assert ticket is not None
        started.append(n)
        await asyncio.sleep(0.02)  # the provider's answer
        ticket.release()

    tasks = []
    for n in range(40):
        tasks.append(asyncio.create_task(send(n)))
        await asyncio.sleep(0)  # each asks before the next one is created
    await asyncio.gather(*tasks)
    await limiter.aclose()
    assert limiter.denied > 0  # the case in question: sends that were refused and came back
    assert started == list(range(40))
