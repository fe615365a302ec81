"""The fleet's rate ledger (scheduler/fleet_limits.py) against real PostgreSQL, with several
limiters standing in for several workers (whole worker processes: test_fleet_limits.py)."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Callable
from itertools import pairwise
from typing import TypeVarTuple

import asyncpg

from core.db import Database
from platforms.base import Channel
from scheduler.fleet_limits import FleetLimiter, recipient_key


def _limiters(db: Database, count: int, rate: float, chat_rate: float = 0.0) -> list[FleetLimiter]:
    assert db.pool is not None
    recipients = {Channel.TELEGRAM: chat_rate} if chat_rate else {}
    return [
        FleetLimiter(
            db.pool, {Channel.TELEGRAM: "telegram:42"}, {Channel.TELEGRAM: rate}, recipients
        )
        for _ in range(count)
    ]


async def _send(limiter: FleetLimiter, address: str, starts: list[float]) -> bool:
    ticket = await limiter.acquire(Channel.TELEGRAM, address, max_wait=10.0)
    if ticket is None:
        return False
    starts.append(time.monotonic())
    ticket.release()
    return True


async def test_limiters_sharing_a_key_keep_its_rate_together(db: Database) -> None:
    rate = 20.0
    limiters = _limiters(db, 3, rate)
    starts: list[float] = []
    sends = [_send(limiters[i % 3], str(i), starts) for i in range(60)]
    assert all(await asyncio.gather(*sends))
    starts.sort()
    # 60 sends at 20/s take 2.95 s at least.
    assert starts[-1] - starts[0] >= 59 / rate - 0.05
    # Any 21 consecutive starts span at least one second: never 21 in a second.
    assert min(b - a for a, b in zip(starts, starts[20:], strict=False)) >= 1.0 - 0.03


async def test_a_slow_answer_holds_the_window_not_just_the_pace(
    db: Database,
) -> None:
    limiters = _limiters(db, 2, 100.0, chat_rate=1.0)
    starts: list[float] = []

    async def slow_send(limiter: FleetLimiter) -> None:
        ticket = await limiter.acquire(Channel.TELEGRAM, "777", max_wait=10.0)
        assert ticket is not None
        starts.append(time.monotonic())
        await asyncio.sleep(0.3)  # the provider's answer takes a while
        ticket.release()

    await asyncio.gather(*(slow_send(limiters[i % 2]) for i in range(3)))
    starts.sort()
    # At 1/s a recipient's next send starts a second after the last one's answer, not its start:
    # the provider may have received it at any moment until then.
    assert all(b - a >= 1.3 - 0.03 for a, b in pairwise(starts))


async def test_a_retry_after_holds_every_worker(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    first, second = _limiters(db, 2, 20.0)
    first.pause(Channel.TELEGRAM, time.monotonic(), 3.0)
    await first.aclose()  # the pause is written
    paused = await admin_conn.fetchval(
        "select paused_until > now() + interval '2 seconds' from send_rate_ledger"
        " where key = 'telegram:42'"
    )
    assert paused
    assert await second.acquire(Channel.TELEGRAM, "1", max_wait=1.0) is None
    assert 2.0 < second.wait_hint(Channel.TELEGRAM, "1", time.monotonic()) <= 3.5


async def test_the_ledger_stores_no_address(db: Database, admin_conn: asyncpg.Connection) -> None:
    (limiter,) = _limiters(db, 1, 20.0, chat_rate=1.0)
    ticket = await limiter.acquire(Channel.TELEGRAM, "123456789", max_wait=5.0)
    assert ticket is not None
    ticket.release()
    await limiter.aclose()
    keys = {r["key"] for r in await admin_conn.fetch("select key from send_rate_ledger")}
    assert keys == {"telegram:42", recipient_key("telegram:42", "123456789")}
    assert not any("123456789" in key for key in keys)


_Ts = TypeVarTuple("_Ts")


class _EarlyTimers(asyncio.SelectorEventLoop):
    """An event loop whose timers wake early, as uvloop's can (they count whole milliseconds: 536
    of 2,000 random sleeps woke early, the worst by 0.97 ms). These wake 9 ms early, so that the
    kernel's own lateness in waking a process (1-3 ms on this box) cannot hide it: the slots of
    the test are 10 ms ahead (the ledger's lead)."""

    def call_at(
        self,
        when: float,
        callback: Callable[[*_Ts], object],
        *args: *_Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        return super().call_at(when - 0.009, callback, *args, context=context)


def test_a_send_never_starts_before_its_slot_when_timers_wake_early(database_url: str) -> None:
    """A send a second after the answer of the one cap places back has only the network's
    transit to spare (a loopback: about 2 ms): the limiter hands a pass over no sooner than the
    slot the ledger granted, whatever its loop's timers do."""

    async def early_starts() -> list[float]:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            limiter = FleetLimiter(
                pool, {Channel.TELEGRAM: "telegram:42"}, {Channel.TELEGRAM: 200.0}, {}
            )
            early: list[float] = []
            for _ in range(100):
                ticket = await limiter.acquire(Channel.TELEGRAM, "1", max_wait=10.0)
                assert ticket is not None
                release = ticket.on_release
                assert isinstance(release, functools.partial)
                granted = release.args[1]  # the ledger's answer: its slot on this clock
                early.append(granted.slot - time.monotonic())
                ticket.release()
            await limiter.aclose()
            return [e for e in early if e > 0]
        finally:
            await pool.close()

    with asyncio.Runner(loop_factory=_EarlyTimers) as runner:
        assert runner.run(early_starts()) == []
