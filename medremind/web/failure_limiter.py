"""The arithmetic of :mod:`medremind.web.failed_credentials`: token buckets of wrong credentials
per client address, the keys trusted per address, and what address a client is (an IPv6 host is
its /64). Pure: times are seconds the caller passes in; memory is bounded by :data:`MAX_CLIENTS`
and :data:`MAX_TRUSTED`.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass

# How long a key that was valid from an address stays checkable while that address is held: a
# day covers an integration's quiet night; a restart forgets it (the next success trusts again).
TRUST_SECONDS = 24 * 3600.0
# Addresses and (address, key prefix) pairs remembered. Each entry is about 200 bytes, so at most
# a few megabytes however many addresses an attacker has. Evicting an address gives it its full
# limit again: only an attacker with this many addresses can make that happen, and they had that
# many limits to spend already.
MAX_CLIENTS = 10_000
MAX_TRUSTED = 10_000
# The longest address text kept (a non-IP client name from an ASGI server is not bounded).
_MAX_ADDRESS_CHARS = 64


def client_of(address: str | None) -> str:
    """The client an address stands for: an IPv4 address as it is (also when IPv4-mapped), an
    IPv6 address as its /64, anything else (no client, a test client's name) as its text."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:_MAX_ADDRESS_CHARS]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # when ``tokens`` was last brought up to date (seconds, the caller's clock)


class FailureLimiter:
    """Token buckets of wrong credentials per client (:mod:`medremind.web.failed_credentials`).

    Times are seconds on the caller's clock (the app's injected clock in tests). Not safe across
    threads; the web process's event loop is one thread.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        max_clients: int = MAX_CLIENTS,
        max_trusted: int = MAX_TRUSTED,
        trust_seconds: float = TRUST_SECONDS,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._rate = limit / window_seconds if limit > 0 else 0.0  # tokens back per second
        self._max_clients = max_clients
        self._max_trusted = max_trusted
        self._trust_seconds = trust_seconds
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._trusted: OrderedDict[tuple[str, str], float] = OrderedDict()  # -> trusted until
        # Trusted checks in flight per pair (only while some are): at most ``limit`` at once.
        self._in_flight: dict[tuple[str, str], int] = {}

    def __len__(self) -> int:
        """Clients remembered (for tests and a look at the memory held)."""
        return len(self._buckets)

    def trusts(self, client: str, credential: str, now: float) -> bool:
        """Whether ``credential`` (a key's prefix) was valid from ``client`` lately: then it is
        checked even while the client is held."""
        until = self._trusted.get((client, credential))
        if until is None:
            return False
        if until <= now:
            del self._trusted[(client, credential)]
            return False
        return True

    def enter_trusted(self, client: str, credential: str, now: float) -> bool:
        """Start a check of a trusted ``credential`` without a token; False when it is not
        trusted, or ``limit`` of its checks are in flight already. The first wrong one ends the
        trust, but requests sent at once all pass before it returns: the cap bounds that wave
        for one who knows a valid key's prefix (and each new trust costs a token)."""
        pair = (client, credential)
        if not self.trusts(client, credential, now) or self._in_flight.get(pair, 0) >= self.limit:
            return False
        self._in_flight[pair] = self._in_flight.get(pair, 0) + 1
        return True

    def leave_trusted(self, client: str, credential: str) -> None:
        """A check :meth:`enter_trusted` started has ended."""
        pair = (client, credential)
        left = self._in_flight.pop(pair, 1) - 1
        if left > 0:
            self._in_flight[pair] = left

    def take(self, client: str, now: float) -> float:
        """Take one of ``client``'s checks: 0.0 when taken, else the seconds until one is back
        (nothing taken). Always 0.0 with the limit off."""
        if self.limit <= 0:
            return 0.0
        bucket = self._current(client, now)
        self._buckets.move_to_end(client)
        self._evict()
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate

    def give_back(self, client: str, now: float) -> None:
        """Return a check :meth:`take` took: the credential was valid (or was not checked)."""
        bucket = self._buckets.get(client)
        if bucket is None:
            return
        self._refill(bucket, now)
        bucket.tokens = min(float(self.limit), bucket.tokens + 1.0)
        if bucket.tokens >= self.limit:
            del self._buckets[client]  # full: nothing a fresh bucket would not hold

    def trust(self, client: str, credential: str, now: float) -> None:
        """``credential`` was valid from ``client``: trusted for :data:`TRUST_SECONDS`."""
        if self.limit <= 0:
            return
        pair = (client, credential)
        self._trusted[pair] = now + self._trust_seconds
        self._trusted.move_to_end(pair)
        while len(self._trusted) > self._max_trusted:
            self._trusted.popitem(last=False)

    def distrust(self, client: str, credential: str, now: float) -> None:
        """A trusted ``credential`` was wrong from ``client`` (its prefix with another secret):
        trusted no more, and the failure spends one of the client's checks after all."""
        if self._trusted.pop((client, credential), None) is not None:
            bucket = self._current(client, now)
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            self._evict()

    def _current(self, client: str, now: float) -> _Bucket:
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(float(self.limit), now)
        else:
            self._refill(bucket, now)
        return bucket

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.at)  # a clock set back refills nothing
        bucket.tokens = min(float(self.limit), bucket.tokens + elapsed * self._rate)
        bucket.at = max(bucket.at, now)

    def _evict(self) -> None:
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)


__all__ = ["MAX_CLIENTS", "MAX_TRUSTED", "TRUST_SECONDS", "FailureLimiter", "client_of"]
