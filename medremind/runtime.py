"""How the long-running processes run their event loop: uvloop, and a fast failing sniffio import.

Both ``medremind web`` and ``medremind worker`` (and the benchmarks, to measure what runs) go
through :func:`run_async`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


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


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when installed (uvicorn[standard] brings it), else asyncio's loop."""
    cache_missing_sniffio()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
