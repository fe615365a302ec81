"""scheduler.send_timeouts: one timer among the sends in flight times each out at its deadline,
as ``asyncio.timeout(seconds)`` would, and leaves alone the sends that are over (issue 20).
Each case runs the same sends under ``asyncio.timeout`` too: the two agree."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from scheduler.send_timeouts import SendTimeouts

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def run(loop: str, main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(main())


async def send(
    timeouts: SendTimeouts,
    seconds: float,
    takes: float,
    expire: list[Callable[[], None]] | None = None,
) -> str:
    """A send that takes ``takes`` seconds under a time-out of ``seconds``, as the deliverer
    runs it (``expire`` gets the function that expires it, for a test to call)."""
    watch = timeouts.start(seconds)
    if expire is not None:
        expire.append(watch.expire)
    try:
        await asyncio.sleep(takes)
    except asyncio.CancelledError as exc:
        if watch.timed_out():
            raise TimeoutError from exc
        raise
    finally:
        watch.over()
    return "sent"


@pytest.mark.parametrize("loop", LOOPS)
def test_a_send_longer_than_its_time_out_raises_timeout_error_at_its_deadline(loop: str) -> None:
    async def main() -> float:
        timeouts = SendTimeouts()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await send(timeouts, 0.05, 30.0)
        return time.monotonic() - started

    assert run(loop, main) < 5.0  # not the send's 30 s


@pytest.mark.parametrize("loop", LOOPS)
def test_sends_over_in_time_are_never_cancelled_and_leave_the_line(loop: str) -> None:
    async def main() -> None:
        timeouts = SendTimeouts()
        for _ in range(200):
            assert await send(timeouts, 0.05, 0.0) == "sent"
        assert len(timeouts) <= 1
        # Past every deadline: nothing is cancelled (the task would raise in this sleep).
        await asyncio.sleep(0.15)
        assert await send(timeouts, 0.05, 0.0) == "sent"

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_concurrent_sends_each_time_out_at_their_own_deadline(loop: str) -> None:
    async def main() -> list[tuple[str, str]]:
        timeouts = SendTimeouts()
        ended: list[tuple[str, str]] = []

        async def one(name: str, delay: float, takes: float) -> None:
            await asyncio.sleep(delay)
            try:
                ended.append((name, await send(timeouts, 0.3, takes)))
            except TimeoutError:
                ended.append((name, "timed out"))

        await asyncio.gather(
            one("first", 0.0, 30.0),  # in flight past its deadline
            one("quick", 0.05, 0.01),  # over long before its deadline
            one("second", 0.1, 30.0),  # started later: times out later
            one("in time", 0.15, 0.2),  # ends before its deadline, after the first's
        )
        return ended

    assert run(loop, main) == [
        ("quick", "sent"),
        ("first", "timed out"),
        ("in time", "sent"),
        ("second", "timed out"),
    ]


@pytest.mark.parametrize("loop", LOOPS)
def test_a_cancellation_from_outside_stays_a_cancellation(loop: str) -> None:
    async def main() -> None:
        timeouts = SendTimeouts()
        task = asyncio.ensure_future(send(timeouts, 30.0, 30.0))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The next send is timed as usual.
        with pytest.raises(TimeoutError):
            await send(timeouts, 0.05, 30.0)

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_shorter_time_out_than_a_send_in_flight_gets_a_timer_of_its_own(loop: str) -> None:
    async def main() -> list[str]:
        timeouts = SendTimeouts()
        ended: list[str] = []

        async def one(name: str, seconds: float, takes: float) -> None:
            try:
                await send(timeouts, seconds, takes)
                ended.append(f"{name} sent")
            except TimeoutError:
                ended.append(f"{name} timed out")

        long = asyncio.ensure_future(one("long", 30.0, 0.5))
        await asyncio.sleep(0.01)
        await one("short", 0.05, 30.0)  # its deadline comes 30 s before the long one's
        await long
        return ended

    assert run(loop, main) == ["short timed out", "long sent"]


def test_one_set_of_time_outs_serves_a_new_event_loop() -> None:
    timeouts = SendTimeouts()

    async def slow() -> None:
        with pytest.raises(TimeoutError):
            await send(timeouts, 0.05, 30.0)

    async def left_in_flight() -> None:
        # Still in flight when its loop closes (cancelled then): its line stays behind.
        in_flight = asyncio.ensure_future(send(timeouts, 0.05, 30.0))
        await asyncio.sleep(0)
        assert not in_flight.done()

    run("asyncio", left_in_flight)
    run("uvloop", slow)
    run("asyncio", slow)


async def _timed(mode: str, timeouts: SendTimeouts, expire: list[Callable[[], None]]) -> str:
    """A 30-second send under a 30-second time-out that the test expires by hand (``expire``),
    under a watch of the line or under ``asyncio.timeout``; how it ended."""
    try:
        if mode == "line":
            return await send(timeouts, 30.0, 30.0, expire)
        else:
            async with asyncio.timeout(30.0) as timeout:
                loop = asyncio.get_running_loop()
                expire.append(lambda: timeout.reschedule(loop.time() - 1.0))
                await asyncio.sleep(30.0)
    except TimeoutError:
        return "timed out"
    except asyncio.CancelledError:
        return "cancelled"
    return "sent"


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("outside", [False, True], ids=["deadline alone", "and a cancel"])
def test_a_watch_ends_a_send_as_asyncio_timeout_does(loop: str, outside: bool) -> None:
    # The deadline alone: TimeoutError. The deadline and a cancellation from outside at once
    # (a worker shutting down): the cancellation, under both.
    async def main() -> list[str]:
        ended = []
        for mode in ("line", "asyncio"):
            expire: list[Callable[[], None]] = []
            task = asyncio.ensure_future(_timed(mode, SendTimeouts(), expire))
            await asyncio.sleep(0.01)
            expire[0]()
            if outside:
                task.cancel()
            ended.append(await task)
            assert task.cancelling() == (1 if outside else 0)
        return ended

    expected = "cancelled" if outside else "timed out"
    assert run(loop, main) == [expected, expected]
