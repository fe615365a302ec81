"""Rate limits per platform and per recipient, on a steady grid with a provider-side guard.

Each bucket holds the earliest moment its next send may start (``next_at``); a send moves it one
interval (``1/rate``) on. The grid keeps its pace when the event loop wakes a few milliseconds
late (a send at ``t + delta`` still books the next slot at ``t + 1/rate``); after a longer stall
or an idle spell it restarts from the real time, so the sends that waited do not fire at once.

Telegram answers 429 to the 31st request inside any second *as its server sees them*, and the
server sees a request somewhere between our start of the send and the response. A guarded bucket
therefore also keeps the last ``ceil(rate)`` sends and lets a send start only once the send that
many places back has *finished* more than a second ago. A slow first request (a TLS handshake) or
a jittery network cannot squeeze 31 arrivals into one server second, whatever our clock says.

A 429 pauses the platform's bucket, and every waiting send sees the pause when it wakes.

A send passes all its buckets at the same moment (platform and recipient), so it never holds a
platform slot while it waits for its chat. When the queue in front of a send is longer than
``max_wait``, :meth:`BucketSet.acquire` gives up at once and the dispatcher reschedules the row
instead of holding its lease. :meth:`Pass.release` records when the send finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from platforms.base import Channel

# Provider caps (messages per second). Telegram: 30/s per bot overall, 1/s per chat; Twilio long
# codes: 1 segment/s per sender; WhatsApp Business: 10/s is a safe default tier. Console is local.
DEFAULT_PLATFORM_RATES: dict[Channel, float] = {
    # Just under Telegram's 30/s: 31 sends spaced by 1/29.5 s span more than a second, with room
    # for a few milliseconds of jitter between our send and the provider's clock.
    Channel.TELEGRAM: 29.5,
    Channel.SMS: 1.0,
    Channel.WHATSAPP: 10.0,
    Channel.EMAIL: 5.0,
}
DEFAULT_RECIPIENT_RATES: dict[Channel, float] = {Channel.TELEGRAM: 1.0}
# Platforms that reject requests over their cap (rather than queueing them, as Twilio does): their
# bucket also guards the provider's one-second window by completion times (see the module doc).
GUARDED_PLATFORMS = frozenset({Channel.TELEGRAM})
_GUARD_WINDOW_SECONDS = 1.0
_MAX_CATCH_UP_SECONDS = 0.01  # how late a send may start and still keep the grid's pace
# A slot whose send never reported back (a bug, a cancelled task) must not stall the platform.
_UNRELEASED_SLOT_SECONDS = 60.0
_MAX_RECIPIENT_BUCKETS = 100_000  # idle per-chat buckets are forgotten beyond this many


class Slot:
    """One send that passed a guarded bucket; ``finished`` is set when its response came back."""

    __slots__ = ("_done", "finished", "started")

    def __init__(self, started: float, finished: float | None = None) -> None:
        self.started = started
        self.finished = finished
        self._done: asyncio.Event | None = None

    def finished_by(self, now: float) -> float | None:
        """When the send finished; a send never released counts as finished after a minute."""
        if self.finished is None and now - self.started > _UNRELEASED_SLOT_SECONDS:
            return self.started + _UNRELEASED_SLOT_SECONDS
        return self.finished

    def finish(self, now: float) -> None:
        """The send is over (answered, failed or timed out) at ``now``."""
        if self.finished is None:
            self.finished = now
            if self._done is not None:
                self._done.set()

    async def wait_finished(self) -> None:
        """Return once :meth:`finish` has been called."""
        if self.finished is None:
            if self._done is None:
                self._done = asyncio.Event()
            await self._done.wait()


@dataclass(slots=True)
class Bucket:
    """At most ``rate`` sends per second on a grid of ``1/rate``; see the module docstring.

    With ``guard``, also never more than ``ceil(rate)`` sends within a second from the finish of
    the oldest of them to the start of the newest.
    """

    rate: float
    guard: bool = False
    next_at: float = 0.0  # earliest start of the next send, in time.monotonic() seconds
    waiting: int = 0  # sends queued on this bucket now (for the queue-length estimate)
    recent: deque[Slot] = field(default_factory=deque)  # the last ceil(rate) sends (guard)
    # Sends queued for their turn, first come first served (see BucketSet.acquire).
    turns: deque[asyncio.Future[None]] = field(default_factory=deque)
    # The time-critical ones among them (they queue ahead of routine sends).
    critical: set[asyncio.Future[None]] = field(default_factory=set)

    async def wait_turn(self, give_up_at: float, critical: bool = False) -> bool:
        """Queue behind earlier sends; True once first in line, False at ``give_up_at``.

        ``critical`` (a time-critical dose, a reply): ahead of every routine send waiting, behind
        the send whose turn it is and earlier critical ones.
        """
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if critical and len(self.turns) > 1:
            place = 1
            while place < len(self.turns) and self.turns[place] in self.critical:
                place += 1
            self.turns.insert(place, turn)
        else:
            self.turns.append(turn)
        if critical:
            self.critical.add(turn)  # until its turn ends (end_turn) or it gives up (_drop)
        if self.turns[0] is turn:
            return True
        try:
            async with asyncio.timeout(max(0.0, give_up_at - time.monotonic())):
                await turn
        except TimeoutError:
            self._drop(turn)
            return False
        except BaseException:
            self._drop(turn)
            raise
        return True

    def end_turn(self) -> None:
        """The first in line is done (it took its slot or gave up): the next one's turn."""
        if self.turns:
            self.critical.discard(self.turns.popleft())
        if self.turns and not self.turns[0].done():
            self.turns[0].set_result(None)

    def _drop(self, turn: asyncio.Future[None]) -> None:
        self.critical.discard(turn)
        if self.turns and self.turns[0] is turn:
            self.end_turn()  # it was handed the turn as it gave up: pass it on
        else:
            with contextlib.suppress(ValueError):
                self.turns.remove(turn)

    def wait(self, now: float) -> float:
        """Seconds until the next send may start (0 = now; ``inf`` = when a send finishes)."""
        wait = self.next_at - now
        if self.guard and len(self.recent) >= math.ceil(self.rate):
            oldest = self.recent[0].finished_by(now)
            if oldest is None:
                return math.inf
            wait = max(wait, oldest + _GUARD_WINDOW_SECONDS - now)
        return max(0.0, wait)

    def queue_estimate(self, now: float) -> float:
        """Seconds until a send joining the queue now would start."""
        return max(0.0, self.next_at - now) + self.waiting / self.rate

    def take(self, now: float) -> Slot | None:
        """A send starts now; a guarded bucket returns its :class:`Slot` to finish later."""
        interval = 1.0 / self.rate
        # On the grid while a wake-up is a few milliseconds late (restarting from each late start
        # cost ~4% of Telegram's rate); from the real time after a stall or an idle spell, so
        # it is not followed by a burst.
        if now - self.next_at <= _MAX_CATCH_UP_SECONDS:
            self.next_at = max(self.next_at, now - interval) + interval
        else:
            self.next_at = now + interval
        if not self.guard:
            return None
        slot = Slot(now)
        self.recent.append(slot)
        while len(self.recent) > math.ceil(self.rate):
            self.recent.popleft()
        return slot

    def pause_until(self, until: float) -> None:
        """Nothing starts before ``until`` (the provider said retry_after)."""
        self.next_at = max(self.next_at, until)


@dataclass(slots=True)
class Pass:
    """A send's passage through its buckets: how long it waited, and its guard slots."""

    waited: float
    slots: tuple[Slot, ...] = ()
    on_release: Callable[[], None] | None = None  # the fleet's ledger: report a serial send done

    def release(self, now: float | None = None) -> None:
        """The send finished (whatever its outcome): guarded windows count from here."""
        if self.on_release is not None:
            self.on_release()
            self.on_release = None
        if self.slots:
            finished = time.monotonic() if now is None else now
            for slot in self.slots:
                slot.finish(finished)


_NO_WAIT = Pass(0.0)
# How far past its max_wait a send may still be waiting (a guard or a pause it could not foresee).
_ACQUIRE_SLACK_SECONDS = 1.0


async def _sleep_until_ready(buckets: list[Bucket], give_up_at: float) -> bool:
    """Sleep until every bucket would let a send start; False if that is after ``give_up_at``."""
    while True:
        now = time.monotonic()
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait <= 0.0:
            return True
        if now >= give_up_at:
            return False
        if wait == math.inf:
            # The guarded window is full of sends in flight: wake when the oldest one finishes
            # (or at the give-up time, to re-check a slot that is never released).
            oldest = next(b for b in buckets if b.wait(now) == math.inf).recent[0]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(oldest.wait_finished(), timeout=give_up_at - now)
        elif now + wait > give_up_at:
            return False
        else:
            await asyncio.sleep(wait)


class Limiter(Protocol):
    """What the dispatcher asks of a rate limiter: this process's buckets or the fleet's ledger."""

    async def acquire(
        self,
        channel: Channel,
        address: str,
        max_wait: float,
        account: str | None = None,
        rate: float | None = None,
        *,
        critical: bool = False,
    ) -> Pass | None:
        """Wait for a slot starting within ``max_wait`` seconds; None (taking nothing) if none.

        ``account``: the sender's rate key when it is not the channel's default account (a
        clinic's own, another Telegram bot); it gets a cap of its own at the channel's rate, or
        at ``rate`` when given (a bot's paid broadcasts: 1,000/s). ``critical``: a time-critical
        send (a time-critical dose, a bot reply), served before routine ones however many wait.
        """
        ...

    def wait_hint(self, channel: Channel, address: str, now: float) -> float:
        """Seconds until a send refused now should come back."""
        ...

    def pause(
        self, channel: Channel, now: float, seconds: float, account: str | None = None
    ) -> None:
        """Hold the channel's account (or ``account``) for ``seconds`` (a 429 with retry_after)."""
        ...


class BucketSet:
    """All buckets of one dispatcher; used from one event loop (no locks needed)."""

    def __init__(
        self,
        platform_rates: dict[Channel, float] | None = None,
        recipient_rates: dict[Channel, float] | None = None,
    ) -> None:
        rates = DEFAULT_PLATFORM_RATES if platform_rates is None else platform_rates
        self._platform = {
            ch: Bucket(rate, guard=ch in GUARDED_PLATFORMS)
            for ch, rate in rates.items()
            if rate > 0
        }
        self._recipient_rates = (
            DEFAULT_RECIPIENT_RATES if recipient_rates is None else recipient_rates
        )
        self._recipients: OrderedDict[tuple[Channel, str], Bucket] = OrderedDict()
        # Clinics' own accounts (rate key -> bucket), each at its channel's rate.
        self._accounts: dict[str, Bucket] = {}

    def _account_bucket(
        self, channel: Channel, account: str | None, rate: float | None = None
    ) -> Bucket | None:
        if account is None or channel not in self._platform:
            return self._platform.get(channel)
        bucket = self._accounts.get(account)
        if bucket is None:
            default = self._platform[channel]
            bucket = self._accounts[account] = Bucket(rate or default.rate, guard=default.guard)
        return bucket

    def buckets(
        self, channel: Channel, address: str, account: str | None = None, rate: float | None = None
    ) -> list[Bucket]:
        """The buckets a send to ``address`` on ``channel`` passes (platform, then recipient)."""
        buckets = []
        platform = self._account_bucket(channel, account, rate)
        if platform is not None:
            buckets.append(platform)
        rate = self._recipient_rates.get(channel)
        if rate:
            key = (channel, address)
            bucket = self._recipients.get(key)
            if bucket is None:
                bucket = self._recipients[key] = Bucket(rate)
                if len(self._recipients) > _MAX_RECIPIENT_BUCKETS:
                    self._recipients.popitem(last=False)
            else:
                self._recipients.move_to_end(key)
            buckets.append(bucket)
        return buckets

    def try_take(self, channel: Channel, address: str, now: float) -> float:
        """Start a send now if every bucket allows it (return 0), else return seconds to wait.

        The send counts as finished at once (for guarded windows): a test and planning aid.
        """
        buckets = self.buckets(channel, address)
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait <= 0.0:
            self._take(buckets, now).release(now)
        return wait

    @staticmethod
    def _take(buckets: list[Bucket], now: float) -> Pass:
        slots = tuple(slot for b in buckets if (slot := b.take(now)) is not None)
        return Pass(0.0, slots)

    async def acquire(
        self,
        channel: Channel,
        address: str,
        max_wait: float,
        account: str | None = None,
        rate: float | None = None,
        *,
        critical: bool = False,
    ) -> Pass | None:
        """Wait until a send may start and take the slot; the caller releases the pass after it.

        Sends take the platform's slots in the order they asked (one waiter sleeps on the
        platform's clock, the rest queue behind it: no herd, no starvation). A send first waits
        for its recipient's own pace without holding a place in that queue, so one busy chat
        does not hold up the others. Returns None, taking nothing, when the queue ahead is
        longer than ``max_wait`` on arrival, or when the wait has lasted ``max_wait`` plus a
        second after all (a provider pause, a slow response holding the guarded window): the
        caller reschedules instead of holding its lease. A ``critical`` send queues ahead of the
        routine ones (the queue behind it is no reason to give up).
        """
        started = time.monotonic()
        buckets = self.buckets(channel, address, account, rate)
        if not buckets:
            return _NO_WAIT
        if not critical and max(b.queue_estimate(started) for b in buckets) > max_wait:
            return None
        give_up_at = started + max_wait + _ACQUIRE_SLACK_SECONDS
        platform = self._account_bucket(channel, account, rate)
        others = [b for b in buckets if b is not platform]
        for bucket in buckets:
            bucket.waiting += 1
        try:
            while True:
                if not await _sleep_until_ready(others, give_up_at):
                    return None
                if platform is not None:
                    if not await platform.wait_turn(give_up_at, critical):
                        return None
                    try:
                        if not await _sleep_until_ready([platform], give_up_at):
                            return None
                        now = time.monotonic()
                        if any(b.wait(now) > 0.0 for b in others):
                            continue  # another send to this recipient went first: queue again
                        ticket = self._take(buckets, now)
                    finally:
                        platform.end_turn()
                else:
                    now = time.monotonic()
                    ticket = self._take(buckets, now)
                ticket.waited = now - started
                return ticket
        finally:
            for bucket in buckets:
                bucket.waiting -= 1

    def wait_hint(self, channel: Channel, address: str, now: float) -> float:
        """Seconds until a send joining the queue now would start (without taking anything)."""
        return max((b.queue_estimate(now) for b in self.buckets(channel, address)), default=0.0)

    def pause(
        self, channel: Channel, now: float, seconds: float, account: str | None = None
    ) -> None:
        """Hold the platform (or a clinic's ``account``) for ``seconds`` (a 429, retry_after)."""
        bucket = self._account_bucket(channel, account)
        if bucket is None:
            bucket = self._platform[channel] = Bucket(rate=1_000_000.0)
        bucket.pause_until(now + seconds)
