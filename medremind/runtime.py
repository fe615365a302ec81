"""How the long-running processes run their event loop: uvloop, and a fast failing sniffio import.

Both ``medremind web`` and ``medremind worker`` (and the benchmarks, to measure what runs) go
through :func:`run_async`.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Allocations between two collections of the youngest generation (Python's default: 700). A
# message's objects live across its send's awaits and its flush: at 700 a frozen worker still ran
# ~230 young collections for 5,000 reminders (25 ms, ~5 us per message), at 10,000 it runs ~10
# (8 ms). Garbage in a cycle waits a little longer for its collection; nothing else changes.
GC_YOUNG_THRESHOLD = 10_000


def cache_missing_sniffio() -> None:
    """Make httpcore's per-request ``import sniffio`` fail fast when sniffio is not installed.

    httpcore tries ``import sniffio`` every time it creates a lock, i.e. on every call through
    httpx. A failed import is not cached by Python, so each attempt searched sys.path on disk:
    measured at about a fifth of the web process's CPU under webhook load. ``None`` in
    ``sys.modules`` is Python's documented "known missing" marker, so the import raises
    ImportError at once and httpcore falls back to asyncio, as it did. Installing sniffio also
    fixes it.
    """
    if importlib.util.find_spec("sniffio") is None:
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


def settle_heap(young_threshold: int = GC_YOUNG_THRESHOLD) -> None:
    """Keep the garbage collector off what start-up built, once a process is set up.

    ``gc.freeze`` moves every object alive now (modules, classes, the templates, the senders)
    into a generation that no collection scans; only what is allocated later is. Without it the
    full collections a burst triggers scanned the whole start-up heap: 2 of 45 ms each in
    scenario 11 of bench/dispatch.py (5,000 reminders), ~20 us of the worker's ~140 us per
    message (issue 20). Frozen objects are still freed by their reference counts; only a cycle
    among them would stay, and start-up objects live as long as the process. Called by
    ``medremind worker`` once its dispatcher is built, not by code that tests run in-process.
    """
    gc.collect()
    gc.freeze()
    _young, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, older, oldest)


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when installed (uvicorn[standard] brings it), else asyncio's loop."""
    cache_missing_sniffio()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
