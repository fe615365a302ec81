"""Retry delays for transient failures: exponential backoff with full jitter.

Full jitter (a uniform delay between zero and the exponential cap) spreads the retries of a burst
of failures evenly instead of having them all come back at once (AWS architecture blog, 2015).
"""

from __future__ import annotations

import random
from datetime import timedelta

DEFAULT_BASE_SECONDS = (
    10.0  # first retry within 10 s (MEDREMIND_RETRY_BASE_SECONDS): a blip is short
)
DEFAULT_CAP_SECONDS = 3600.0  # never wait more than an hour between tries of one message


def backoff_ceiling(
    attempt: int, *, base: float = DEFAULT_BASE_SECONDS, cap: float = DEFAULT_CAP_SECONDS
) -> float:
    """The largest delay (seconds) after failed attempt number ``attempt`` (1-based)."""
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    # Cap the exponent too, so a large attempt count cannot overflow the float.
    return min(cap, base * 2 ** min(attempt - 1, 60))


def backoff_delay(
    attempt: int,
    *,
    base: float = DEFAULT_BASE_SECONDS,
    cap: float = DEFAULT_CAP_SECONDS,
    rng: random.Random | None = None,
) -> timedelta:
    """A full-jitter delay after failed attempt ``attempt``: uniform in [0, ceiling]."""
    ceiling = backoff_ceiling(attempt, base=base, cap=cap)
    return timedelta(seconds=(rng or random).uniform(0.0, ceiling))
