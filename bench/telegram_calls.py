"""CPU per Bot API call: ``TelegramSender.send`` against the lean loopback Bot API. By hand:

    .venv/bin/python bench/telegram_calls.py                       # 5,000 calls, 64 in flight
    .venv/bin/python bench/telegram_calls.py --calls 20000 --latency 0

The fake (``tests.fakes.lean_telegram``) runs in its own process, so this process's CPU time is
the sender's alone: message building, the HTTP client, the event loop (uvloop, as the worker runs).
CPU per call hardly depends on what else loads the machine; calls per second does. One JSON line:
``calls``, ``concurrency``, ``seconds``, ``calls_per_second``, ``cpu_us_per_call``,
``p50_ms``/``p99_ms`` (each call's wall time).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dispatch import TOKEN, FakeTelegramProcess, emit  # noqa: E402
from platforms.base import Option, OutboundMessage  # noqa: E402
from platforms.telegram import TelegramSender  # noqa: E402

# A reminder as the dispatcher hands it over: escaped HTML and a two-button keyboard.
MESSAGE = OutboundMessage(
    text="Time for your 8:00 AM dose.",
    html="Time for your <b>8:00 AM</b> dose.",
    options=(Option("Taken", "t:0123456789abcdef"), Option("Snooze 15 min", "s:0123456789ab")),
)


async def run(args: argparse.Namespace, base_url: str) -> None:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(args.calls):
        queue.put_nowait(n)

    async with TelegramSender(
        TOKEN, base_url=base_url, connection_pool_size=args.concurrency
    ) as sender:
        await sender.send("100000000", MESSAGE)  # connect once before measuring

        async def client() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                started = time.perf_counter()
                await sender.send(str(100_000_000 + n % 1000), MESSAGE)
                latencies.append(time.perf_counter() - started)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client() for _ in range(args.concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    latencies.sort()
    emit(
        bench="telegram_calls",
        calls=args.calls,
        concurrency=args.concurrency,
        fake_latency_ms=args.latency * 1000,
        seconds=round(wall, 3),
        calls_per_second=round(args.calls / wall),
        cpu_us_per_call=round(cpu / args.calls * 1e6, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 2),
        p99_ms=round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    )


def main() -> int:
    from medremind.runtime import run_async

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.005, help="the fake's, in seconds")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    fake = FakeTelegramProcess(latency=args.latency)
    try:
        run_async(run(args, fake.base_url))
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
