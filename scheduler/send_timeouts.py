"""Send time-outs with one timer among the sends in flight, not a timer per send.

The sends of a :class:`~scheduler.delivery.Deliverer` all time out after the same number of
seconds, so their deadlines come in the order they started. Each send gets an
``asyncio.Timeout`` with no deadline of its own (``asyncio.timeout(None)``); one timer, armed for
the oldest send still in flight, expires each send whose deadline has come by rescheduling its
Timeout to that deadline, which expires it at once: the task is cancelled and the ``async with``
raises ``TimeoutError``, as under ``asyncio.timeout(seconds)``. A send over before its deadline
only drops out of the line. A send whose deadline would come before one started earlier (the
time-out was shortened meanwhile) gets a timer of its own, ``asyncio.timeout_at``.

Why: ``asyncio.timeout(seconds)`` arms and cancels a timer for every send, and uvloop makes and
closes a libuv timer for each: ~4-6 us of the worker's CPU per reminder at 08:00, when sends end
within milliseconds of their start (issue 20, bench/deliver.py).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from typing import Any

# An entry of the line: [deadline (the loop's clock), the send's Timeout, or None once it is over]
Entry = list[Any]


class SendTimeouts:
    """Time-outs for the sends of one deliverer; see the module docstring. Not thread-safe (one
    event loop's sends); a deliverer used on another loop (tests) starts a new line."""

    def __init__(self) -> None:
        self._line: deque[Entry] = deque()  # by deadline, oldest first
        self._timer: asyncio.TimerHandle | None = None
        self._latest = -math.inf  # the latest deadline in the line
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, seconds: float) -> tuple[asyncio.Timeout, Entry]:
        """A Timeout for a send that must end within ``seconds`` from now, to enter at once
        (``async with``), and its entry, to pass to :meth:`over` once the ``async with`` exited."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._line.clear()
            self._timer = None
            self._latest = -math.inf
            self._loop = loop
        deadline = loop.time() + seconds
        line = self._line
        while line and line[0][1] is None:  # sends over: out of the line, however recent
            line.popleft()
        if deadline < self._latest:
            return asyncio.timeout_at(deadline), [deadline, None]
        timeout = asyncio.timeout(None)
        entry: Entry = [deadline, timeout]
        line.append(entry)
        self._latest = deadline
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire, loop)
        return timeout, entry

    @staticmethod
    def over(entry: Entry) -> None:
        """The send of ``entry`` is over (its ``async with`` exited): nothing to expire."""
        entry[1] = None

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Expire the sends whose deadline has come; arm the timer for the next one in flight."""
        self._timer = None
        if loop is not self._loop:
            return
        now = loop.time()
        line = self._line
        while line:
            deadline, timeout = line[0]
            if timeout is not None and deadline > now:
                self._timer = loop.call_at(deadline, self._expire, loop)
                return
            line.popleft()
            if timeout is not None:
                timeout.reschedule(deadline)  # past: expires now, as its own timer would have

    def __len__(self) -> int:
        """Sends in the line (some may be over and not dropped yet)."""
        return len(self._line)
