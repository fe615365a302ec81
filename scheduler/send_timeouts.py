"""Send time-outs with one timer among the sends in flight, not a timer per send.

The sends of a :class:`~scheduler.delivery.Deliverer` all time out after the same number of
seconds, so their deadlines come in the order they started. Each send gets a :class:`Watch`
(what ``asyncio.timeout(seconds)`` keeps for it: its task and deadline); one timer, armed for the
oldest send still in flight, expires each send whose deadline has come: its task is cancelled,
and the send's ``except asyncio.CancelledError`` asks :meth:`Watch.timed_out`, which says whether
the cancellation was the time-out's alone (then the send raises ``TimeoutError``, as under
``asyncio.timeout``; a cancellation from elsewhere stays one). A send over before its deadline
only drops out of the line (:meth:`Watch.over`). A send whose deadline would come before one
started earlier (the time-out was shortened meanwhile) gets a timer of its own.

As the deliverer uses it::

    watch = timeouts.start(seconds)
    try:
        receipt = await sender.send(address, message)
    except asyncio.CancelledError:
        if watch.timed_out():
            raise TimeoutError from None
        raise
    finally:
        watch.over()

Why: ``asyncio.timeout(seconds)`` arms and cancels a timer for every send, and uvloop makes and
closes a libuv timer for each: ~4-6 us of the worker's CPU per reminder at 08:00; and then an
``asyncio.Timeout`` per send (its state machine, and its ``async with``: two coroutines), ~2 us
more, when sends end within milliseconds of their start (issue 20, bench/deliver.py).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

# A watch's states: in flight; cancelled by its deadline (not yet seen by the send); over.
_LIVE, _EXPIRED, _OVER = 0, 1, 2


class Watch:
    """One send's time-out; see the module docstring. Made by :meth:`SendTimeouts.start`."""

    __slots__ = ("_cancelling", "_handle", "_state", "_task", "deadline")

    def __init__(self, deadline: float, task: asyncio.Task[object]) -> None:
        self.deadline = deadline
        self._task = task
        # Cancellations requested before the send started are not the time-out's (as Timeout).
        self._cancelling = task.cancelling()
        self._state = _LIVE
        self._handle: asyncio.TimerHandle | None = None  # a timer of its own (shortened)

    def expire(self) -> None:
        """The deadline has come: cancel the send's task (once, while it is in flight)."""
        if self._state == _LIVE:
            self._state = _EXPIRED
            self._task.cancel()

    def timed_out(self) -> bool:
        """Whether the ``CancelledError`` the send is handling is its time-out's (and no other
        cancellation was asked since the send started): the send then raises ``TimeoutError``.
        As ``asyncio.Timeout.__aexit__``: the time-out's own cancel request is withdrawn."""
        if self._state != _EXPIRED:
            return False
        self._state = _OVER
        return self._task.uncancel() <= self._cancelling

    def over(self) -> None:
        """The send is over (whatever its outcome): nothing to expire any more. A deadline that
        came as the send ended anyway has its cancel request withdrawn, as asyncio.Timeout does
        on exit (the cancellation itself may still reach the task's next await, as there)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._state == _EXPIRED:
            self._task.uncancel()
        self._state = _OVER

    @property
    def in_flight(self) -> bool:
        """Not over and not expired."""
        return self._state == _LIVE


class SendTimeouts:
    """Time-outs for the sends of one deliverer; see the module docstring. Not thread-safe (one
    event loop's sends); a deliverer used on another loop (tests) starts a new line."""

    def __init__(self) -> None:
        self._line: deque[Watch] = deque()  # by deadline, oldest first
        self._timer: asyncio.TimerHandle | None = None
        self._latest = -math.inf  # the latest deadline in the line
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, seconds: float) -> Watch:
        """The watch of a send of the current task that must end within ``seconds`` from now;
        call its :meth:`Watch.over` once the send is over, however it ended."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._line.clear()
            self._timer = None
            self._latest = -math.inf
            self._loop = loop
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("a send is timed inside a task")
        deadline = loop.time() + seconds
        watch = Watch(deadline, task)
        line = self._line
        while line and not line[0].in_flight:  # sends over: out of the line, however recent
            line.popleft()
        if deadline < self._latest:
            watch._handle = loop.call_at(deadline, watch.expire)
            return watch
        line.append(watch)
        self._latest = deadline
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._expire, loop)
        return watch

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Expire the sends whose deadline has come; arm the timer for the next one in flight."""
        self._timer = None
        if loop is not self._loop:
            return
        now = loop.time()
        line = self._line
        while line:
            watch = line[0]
            if watch.in_flight and watch.deadline > now:
                self._timer = loop.call_at(watch.deadline, self._expire, loop)
                return
            line.popleft()
            watch.expire()  # past: as its own timer would have (nothing if it is over)

    def __len__(self) -> int:
        """Sends in the line (some may be over and not dropped yet)."""
        return len(self._line)
