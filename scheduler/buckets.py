"""Rate limits per platform and per recipient, spaced on the times sends actually start.

Each bucket holds the earliest moment its next send may start (``next_at``); a send that starts
at ``t`` moves it to ``t + 1/rate``. Spacing is measured from the real start, not from a slot
booked in advance: when the event loop stalls (a GC pause, a slow flush), the sends that were
waiting do not all fire at once afterwards, which is what pushes a provider's one-second window
over its cap. A 429 pauses the platform's bucket, and every waiting send sees the pause when it
wakes.

A send passes all its buckets at the same moment (platform and recipient), so it never holds a
platform slot while it waits for its chat. When the queue in front of a send is longer than
``max_wait``, :meth:`BucketSet.acquire` gives up at once and the dispatcher reschedules the row
instead of holding its lease.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

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
_MAX_RECIPIENT_BUCKETS = 100_000  # idle per-chat buckets are forgotten beyond this many


@dataclass(slots=True)
class Bucket:
    """At most ``rate`` sends per second, spaced by ``1/rate`` from their actual start."""

    rate: float
    next_at: float = 0.0  # earliest start of the next send, in time.monotonic() seconds
    waiting: int = 0  # sends queued on this bucket now (for the queue-length estimate)

    def wait(self, now: float) -> float:
        """Seconds until the next send may start (0 = now)."""
        return max(0.0, self.next_at - now)

    def queue_estimate(self, now: float) -> float:
        """Seconds until a send joining the queue now would start."""
        return self.wait(now) + self.waiting / self.rate

    def take(self, now: float) -> None:
        """A send starts now."""
        # From the real start: a late wake-up costs a little rate, but never makes a burst (a
        # schedule that "caught up" measured 429s from the fake Telegram under machine load).
        self.next_at = max(self.next_at, now) + 1.0 / self.rate

    def pause_until(self, until: float) -> None:
        """Nothing starts before ``until`` (the provider said retry_after)."""
        self.next_at = max(self.next_at, until)


class BucketSet:
    """All buckets of one dispatcher; used from one event loop (no locks needed)."""

    def __init__(
        self,
        platform_rates: dict[Channel, float] | None = None,
        recipient_rates: dict[Channel, float] | None = None,
    ) -> None:
        rates = DEFAULT_PLATFORM_RATES if platform_rates is None else platform_rates
        self._platform = {ch: Bucket(rate) for ch, rate in rates.items() if rate > 0}
        self._recipient_rates = (
            DEFAULT_RECIPIENT_RATES if recipient_rates is None else recipient_rates
        )
        self._recipients: OrderedDict[tuple[Channel, str], Bucket] = OrderedDict()

    def buckets(self, channel: Channel, address: str) -> list[Bucket]:
        """The buckets a send to ``address`` on ``channel`` passes (platform, then recipient)."""
        buckets = []
        if channel in self._platform:
            buckets.append(self._platform[channel])
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
        """Start a send now if every bucket allows it (return 0), else return seconds to wait."""
        buckets = self.buckets(channel, address)
        wait = max((b.wait(now) for b in buckets), default=0.0)
        if wait <= 0.0:
            for bucket in buckets:
                bucket.take(now)
        return wait

    async def acquire(self, channel: Channel, address: str, max_wait: float) -> float | None:
        """Wait until a send may start and take the slot; return the seconds waited.

        Returns None at once, taking nothing, when the queue ahead is longer than ``max_wait``.
        """
        started = time.monotonic()
        buckets = self.buckets(channel, address)
        if not buckets:
            return 0.0
        if max(b.queue_estimate(started) for b in buckets) > max_wait:
            return None
        for bucket in buckets:
            bucket.waiting += 1
        try:
            while True:
                now = time.monotonic()
                wait = max(b.wait(now) for b in buckets)
                if wait <= 0.0:
                    for bucket in buckets:
                        bucket.take(now)
                    return now - started
                await asyncio.sleep(wait)
        finally:
            for bucket in buckets:
                bucket.waiting -= 1

    def wait_hint(self, channel: Channel, address: str, now: float) -> float:
        """Seconds until a send joining the queue now would start (without taking anything)."""
        return max((b.queue_estimate(now) for b in self.buckets(channel, address)), default=0.0)

    def pause(self, channel: Channel, now: float, seconds: float) -> None:
        """Hold the whole platform for ``seconds`` (a 429 with retry_after)."""
        bucket = self._platform.get(channel)
        if bucket is None:
            bucket = self._platform[channel] = Bucket(rate=1_000_000.0)
        bucket.pause_until(now + seconds)
