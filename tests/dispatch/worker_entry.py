"""A ``medremind worker`` for process-level tests: the real worker wiring (dispatcher, LISTEN,
reaper, signals) with a :class:`RecordingSender` on Telegram that logs each send to a file.

    python -m tests.dispatch.worker_entry --name w1 --log sends.log [--delay 0.01] [--lease 2]

``DATABASE_URL`` and the other settings come from the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any

from core.logs import configure_logging
from core.settings import load_settings
from medremind.worker_process import serve
from platforms.base import Channel
from scheduler.dispatcher import DispatcherConfig
from tests.dispatch.recording import RecordingSender


def _print_tasks() -> None:
    """Every task's chain of awaits, innermost last, with the time: ``Task.print_stack`` shows
    only a suspended task's outermost frame, which says nothing of what it waits for."""
    print(f"tasks at {time.monotonic():.3f} (monotonic)", file=sys.stderr)
    for task in asyncio.all_tasks():
        print(f"task {task.get_name()}:", file=sys.stderr)
        awaited: Any = task.get_coro()
        while awaited is not None:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is None:
                print(f"  awaits {awaited!r}"[:200], file=sys.stderr)
                break
            print(
                f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}",
                file=sys.stderr,
            )
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    sys.stderr.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--log", required=True, type=Path)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--started", type=Path, default=None)  # a line per send begun
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--grace", type=float, default=5.0)
    args = parser.parse_args()
    settings = load_settings()
    configure_logging("WARNING")
    sender = RecordingSender(
        Channel.TELEGRAM,
        name=args.name,
        delay=args.delay,
        log_path=args.log,
        started_path=args.started,
    )
    config = DispatcherConfig(
        worker_id=args.name,
        batch_size=args.batch,
        concurrency=args.concurrency,
        lease_seconds=args.lease,
        poll_seconds=args.poll,
        shutdown_grace_seconds=args.grace,
        send_timeout_seconds=30.0,
        platform_rates={},
        recipient_rates={},
    )

    async def run() -> int:
        # SIGUSR1 prints every task's stack to stderr: what a worker that hangs is waiting for.
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _print_tasks)
        try:
            return await serve(settings, {Channel.TELEGRAM: sender}, config=config)
        finally:
            await sender.aclose()

    try:
        return asyncio.run(run())
    finally:
        # The loop's close put SIGUSR1 back to its default, which kills: a test's dump request
        # that comes while the process exits must not turn a clean exit into -10.
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
