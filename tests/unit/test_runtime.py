"""medremind.runtime: the worker's heap is frozen for the garbage collector once it is set up."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from medremind import worker_process
from medremind.runtime import GC_YOUNG_THRESHOLD


def test_settle_heap_freezes_the_start_up_heap_and_raises_the_young_threshold() -> None:
    # In a process of its own: freezing this one would keep the suite's garbage cycles.
    code = (
        "import gc\n"
        "from medremind.runtime import settle_heap\n"
        "before = gc.get_freeze_count()\n"
        "settle_heap()\n"
        "print(before, gc.get_freeze_count(), *gc.get_threshold())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    before, frozen, young, older, oldest = map(int, out)
    assert before == 0
    assert frozen > 1000  # the modules imported, at least
    assert (young, older, oldest) == (GC_YOUNG_THRESHOLD, 10, 10)


def test_only_the_worker_command_settles_its_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process callers (medremind dev, the tests) keep serve's default: nothing frozen.
    assert inspect.signature(worker_process.serve).parameters["settle"].default is False
    seen: dict[str, object] = {}

    async def serve(settings: object, **kwargs: object) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(worker_process, "serve", serve)
    assert worker_process.run_worker(object()) == 0  # type: ignore[arg-type]
    assert seen == {"settle": True}
