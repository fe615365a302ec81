"""Waiting in tests for what another task or process does: a hang guard, not a timing test."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 30.0) -> None:
    """Return once ``check()`` (a bool, or an awaitable of one) is true; fail the test if it is
    not within ``timeout`` seconds (a generous deadline: a loaded box is slow, never wrong)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
