"""Wrong credentials per client address: a client that keeps sending made-up API keys (or
dashboard admin tokens, or patient app sign-in codes) is refused before any database lookup.

Each wrong key cost a query and a hash, however many a client sent. Now each client address may
have ``MEDREMIND_AUTH_FAILURES_PER_CLIENT`` credentials checked and found wrong per
``MEDREMIND_AUTH_FAILURE_WINDOW_SECONDS`` (all at once, then one per window / limit, a token
bucket); past it the answer is a 429 with ``Retry-After``, and nothing is looked up or hashed.

- A check takes its token *before* the lookup and a valid credential gives it back: a thousand
  wrong keys sent at once are checked ``limit`` times, not a thousand (they would all pass a count
  of failures made only after their lookups).
- A key that was valid from an address within :data:`TRUST_SECONDS` is still checked while that
  address is held: a clinic's integration behind a shared NAT goes on working while someone else
  there sends wrong keys. A key is trusted by its prefix (``mr_<prefix>_...``, not secret, but
  only a valid key earns trust); the same prefix with a wrong secret loses it at once, and at
  most ``limit`` checks of a trusted key run at once (a wave sent before the first wrong one).
- The address is the one uvicorn gives (behind a proxy: from ``X-Forwarded-For`` as
  ``FORWARDED_ALLOW_IPS`` allows, :mod:`medremind.web.patient_app.client_rate`), so a header the
  client writes itself names no new client. An IPv6 client is its /64: one host has a whole /64
  to rotate through.
- Memory is bounded: at most :data:`MAX_CLIENTS` addresses and :data:`MAX_TRUSTED` trusted
  (address, key) pairs are remembered, the least recently seen forgotten first; an address whose
  bucket is full again is forgotten at once (it holds nothing a fresh one would not).

The buckets live in each web process (a lookup in Postgres is the cost being avoided), so with
``WEB_CONCURRENCY`` processes a client has up to that many times the limit checked.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass

from starlette.requests import Request

from medremind.web.errors import ApiError
from medremind.web.metrics import CREDENTIALS_HELD
from medremind.web.state import WebState, web_state

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
    """Token buckets of wrong credentials per client (see the module's docstring).

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


# What each door checks, the field it comes in, and what a held client is told to do about it.
_DOORS: dict[str, tuple[str, str | None, str]] = {
    "api_key": (
        "wrong API keys",
        "Authorization",
        "Check the key in the Authorization header (medremind apikey list shows the prefixes of"
        " the keys there are). On a shared network another machine may be sending them: a key"
        " that worked from this address lately is still checked.",
    ),
    "admin_token": (
        "unknown admin tokens",
        None,  # the dashboard shows the reason; no field of its form is at fault
        "The dashboard asks for a new token for each change: try again from the dashboard.",
    ),
    "sign_in_link": (
        "sign-in links that did not work",
        "token",
        "Open the newest sign-in link you were sent, or ask for a new one.",
    ),
}


def in_words(seconds: float) -> str:
    """A wait or a window in words: seconds while they are few, else whole minutes (rounded up:
    never too early). Also the patient app's sign-in requests' 429 (client_rate)."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole > 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


def _limiter(state: WebState, door: str) -> FailureLimiter:
    limiter = state.failure_limiters.get(door)
    if limiter is None:
        settings = state.settings
        limiter = state.failure_limiters[door] = FailureLimiter(
            settings.auth_failures_per_client, settings.auth_failure_window_seconds
        )
    return limiter


class CredentialCheck:
    """One request's check of a credential under its client's limit: made by :func:`admitted`
    before the lookup; then the lookup's outcome is told to it, once."""

    def __init__(
        self,
        limiter: FailureLimiter,
        client: str,
        now: float,
        credential: str | None,
        *,
        took: bool,
    ):
        self._limiter = limiter
        self._client = client
        self._now = now
        self._credential = credential
        self._took = took  # False: a trusted credential, checked without spending a token

    def succeeded(self) -> None:
        """The credential was valid: the check given back, the credential trusted."""
        self.not_checked()
        if self._credential is not None:
            self._limiter.trust(self._client, self._credential, self._now)

    def not_checked(self) -> None:
        """The lookup could not be made (the database, a cancelled request): the check given
        back, nothing learnt."""
        if self._took:
            self._limiter.give_back(self._client, self._now)
        elif self._credential is not None:
            self._limiter.leave_trusted(self._client, self._credential)

    def failed(self) -> None:
        """The credential was wrong."""
        if not self._took and self._credential is not None:
            self._limiter.leave_trusted(self._client, self._credential)
            self._limiter.distrust(self._client, self._credential, self._now)


def admitted(request: Request, door: str, credential: str | None = None) -> CredentialCheck:
    """The check of the request's credential at ``door`` (``api_key``: ``credential`` is the
    key's prefix; ``admin_token``; ``sign_in_link``), or a 429 with ``Retry-After`` when its
    client sent too many wrong ones: then nothing is looked up or hashed."""
    state = web_state(request)
    limiter = _limiter(state, door)
    client = client_of(request.client.host if request.client is not None else None)
    now = state.clock().timestamp()
    if credential is not None and limiter.enter_trusted(client, credential, now):
        return CredentialCheck(limiter, client, now, credential, took=False)
    wait = limiter.take(client, now)
    if wait > 0:
        CREDENTIALS_HELD.labels(door).inc()
        what, field, fix = _DOORS[door]
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"too many {what} from your address ({client}): at most {limiter.limit} in"
            f" {in_words(limiter.window_seconds)}, so none is checked for {in_words(seconds)}."
            f" {fix}",
            field=field,
            headers={"Retry-After": str(seconds)},
        )
    return CredentialCheck(limiter, client, now, credential, took=True)


__all__ = [
    "MAX_CLIENTS",
    "MAX_TRUSTED",
    "TRUST_SECONDS",
    "CredentialCheck",
    "FailureLimiter",
    "admitted",
    "client_of",
    "in_words",
]
