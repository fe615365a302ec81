"""Token buckets per platform and per recipient, as reservations (GCRA).

Each bucket remembers its *theoretical arrival time*: the earliest moment the next send fits the
rate. A send reserves a slot in every bucket it passes through at once (platform and recipient), so
a message never holds a platform slot while it waits for its chat's slot. A slot further away than
``max_wait`` is not reserved: the dispatcher reschedules the row instead of holding its lease.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from platforms.base import Channel

# Provider caps (messages per second). Telegram: 30/s per bot overall, 1/s per chat; Twilio long
# codes: 1 segment/s per sender; WhatsApp Business: 10/s is a safe default tier. Console is local.
DEFAULT_PLATFORM_RATES: dict[Channel, float] = {
    # Just under Telegram's 30/s, so scheduling jitter of a few milliseconds cannot put 31 sends
    # into one second of the provider's window.
    Channel.TELEGRAM: 29.5,
    Channel.SMS: 1.0,
    Channel.WHATSAPP: 10.0,
    Channel.EMAIL: 5.0,
}
DEFAULT_RECIPIENT_RATES: dict[Channel, float] = {Channel.TELEGRAM: 1.0}
_MAX_RECIPIENT_BUCKETS = 100_000  # idle per-chat buckets are forgotten beyond this many


@dataclass(slots=True)
class Bucket:
    """A GCRA bucket: ``rate`` sends per second, up to ``burst`` back to back."""

    rate: float
    burst: int = 1
    tat: float = 0.0  # theoretical arrival time, in the clock's seconds

    def earliest(self, now: float) -> float:
        """The earliest time a send could go through this bucket."""
        tolerance = (self.burst - 1) / self.rate
        return max(now, self.tat - tolerance)

    def take(self, at: float) -> None:
        """Consume one slot at ``at`` (>= ``earliest``)."""
        self.tat = max(self.tat, at) + 1.0 / self.rate

    def pause_until(self, until: float) -> None:
        """Nothing goes through before ``until`` (the provider said retry_after)."""
        tolerance = (self.burst - 1) / self.rate
        self.tat = max(self.tat, until + tolerance)


class BucketSet:
    """All buckets of one dispatcher. Not thread-safe: used from one event loop."""

    def __init__(
        self,
        platform_rates: dict[Channel, float] | None = None,
        recipient_rates: dict[Channel, float] | None = None,
        *,
        burst: int = 1,
    ) -> None:
        rates = DEFAULT_PLATFORM_RATES if platform_rates is None else platform_rates
        self._platform = {ch: Bucket(rate, burst) for ch, rate in rates.items() if rate > 0}
        self._recipient_rates = (
            DEFAULT_RECIPIENT_RATES if recipient_rates is None else recipient_rates
        )
        self._recipients: OrderedDict[tuple[Channel, str], Bucket] = OrderedDict()

    def _buckets(self, channel: Channel, address: str) -> list[Bucket]:
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

    def reserve(self, channel: Channel, address: str, now: float, max_wait: float) -> float | None:
        """Reserve a slot; return seconds to wait (0 = go now), or None when it is too far away."""
        buckets = self._buckets(channel, address)
        if not buckets:
            return 0.0
        at = max(b.earliest(now) for b in buckets)
        if at - now > max_wait:
            return None
        for bucket in buckets:
            bucket.take(at)
        return at - now

    def wait_hint(self, channel: Channel, address: str, now: float) -> float:
        """Seconds until a slot would be free (without reserving)."""
        buckets = self._buckets(channel, address)
        return max((b.earliest(now) for b in buckets), default=now) - now

    def pause(self, channel: Channel, now: float, seconds: float) -> None:
        """Hold the whole platform for ``seconds`` (a 429 with retry_after)."""
        bucket = self._platform.get(channel)
        if bucket is None:
            bucket = self._platform[channel] = Bucket(rate=1_000_000.0)
        bucket.pause_until(now + seconds)
