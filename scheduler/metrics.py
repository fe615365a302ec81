"""Dispatcher metrics, in prometheus_client's default registry (served by the web ``/metrics``)."""

from __future__ import annotations

import math
import os
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from functools import cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString


class SendHistogram:
    """A histogram without labels, exposed as prometheus_client's ``Histogram`` exposes it
    (``_bucket`` by ``le``, ``_count``, ``_sum``, ``_created``), observed by every send.

    Why not ``Histogram``: its ``observe`` takes two locks and walks the buckets in Python
    (a method call per step): ~5-7% of the worker's CPU per reminder in bench/deliver.py (py-spy,
    issue 20). Here one lock and a ``bisect`` (the first bucket whose bound the value does not
    exceed, as ``Histogram`` counts it). A scrape reads the counts under the same lock.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Sequence[float],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        self.name = name
        self.documentation = documentation
        bounds = [float(b) for b in buckets]
        if bounds != sorted(bounds):
            raise ValueError("buckets not in sorted order")
        if not bounds or bounds[-1] != math.inf:
            bounds.append(math.inf)
        self._bounds = bounds
        self._labels = [floatToGoString(b) for b in bounds]
        self._counts = [0] * len(bounds)
        self._sum = 0.0
        self._created = time.time()
        self._lock = threading.Lock()
        if registry is not None:
            registry.register(self)

    def observe(self, amount: float) -> None:
        """Count ``amount`` in the first bucket whose upper bound it does not exceed."""
        with self._lock:
            self._counts[bisect_left(self._bounds, amount)] += 1
            self._sum += amount

    def collect(self) -> Iterable[Metric]:
        """The histogram's samples, as ``Histogram.collect`` gives them."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        metric = Metric(self.name, self.documentation, "histogram")
        cumulative = 0
        for label, count in zip(self._labels, counts, strict=True):
            cumulative += count
            metric.add_sample(f"{self.name}_bucket", {"le": label}, float(cumulative))
        metric.add_sample(f"{self.name}_count", {}, float(cumulative))
        metric.add_sample(f"{self.name}_sum", {}, total)
        if _created_series():
            metric.add_sample(f"{self.name}_created", {}, self._created)
        yield metric

    def describe(self) -> Iterable[Metric]:
        """The family's name and type, for the registry's check of duplicate names."""
        yield Metric(self.name, self.documentation, "histogram")


def _created_series() -> bool:
    """Whether ``_created`` samples are exported (prometheus_client's own switch)."""
    setting = os.environ.get("PROMETHEUS_DISABLE_CREATED_SERIES", "False")
    return setting.lower() not in ("true", "1", "t")


SENT = Counter(
    "medremind_messages_sent",
    "Messages sent; via is 'provider', or 'outbox' for a file nobody received",
    ["channel", "via"],
)
FAILED = Counter(
    "medremind_messages_failed",
    "Failed send attempts by error class (transient, rate_limited, permanent, config)",
    ["channel", "error_class"],
)
RETRIED = Counter(
    "medremind_messages_retried", "Messages put back to pending for a retry", ["reason"]
)
EXPIRED = Counter("medremind_messages_expired", "Messages that expired before they could be sent")
DEFERRED = Counter("medremind_messages_deferred", "Messages deferred to the end of quiet hours")
WITHHELD_AT_SEND = Counter(
    "medremind_messages_withheld_at_send",
    "Claimed messages stopped right before the send (paused, opted out or erased since the claim)",
)
REAPED = Counter("medremind_leases_reaped", "Claims returned to pending after their lease expired")
LEASE_LOST = Counter(
    "medremind_outcomes_lease_lost",
    "Outcomes not applied because the row's lease had passed to another worker",
)
RETURN_CANCELLED = Counter(
    "medremind_returns_cancelled",
    "Rows a worker gave back unsent (shutdown) that the clinic had cancelled while it held them",
)

LAG = SendHistogram(
    "medremind_send_lag_seconds",
    "Time from scheduled_time to the send",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
CLAIM_BATCH = Histogram(
    "medremind_claim_batch_size",
    "Rows per claim",
    buckets=(0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
UNKNOWN_OUTCOMES = Counter(
    "medremind_send_outcome_unknown",
    "Sends that timed out after the request may have reached the provider (looked up where the"
    " provider allows it, else retried: a possible duplicate)",
    ["channel"],
)
UNKNOWN_FOUND = Counter(
    "medremind_send_outcome_found",
    "Sends with an unknown outcome that a lookup found at the provider (not sent again)",
    ["channel"],
)
SLOT_STATEMENTS = Counter(
    "medremind_rate_slot_statements", "Round trips to the fleet's rate ledger (take_send_slots)"
)
BREAKER_OPENED = Counter(
    "medremind_breaker_opened",
    "Times a provider account's circuit breaker opened (consecutive transient failures)",
    ["channel"],
)
BREAKER_OPEN = Gauge(
    "medremind_breaker_open", "1 while a provider account's circuit breaker is open", ["channel"]
)
IN_FLIGHT = Gauge("medremind_sends_in_flight", "Sends in progress in this process")
BUCKET_WAIT = Histogram(
    "medremind_bucket_wait_seconds",
    "Time a send waited for its rate-limit bucket",
    ["channel"],
    buckets=(0, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10),
)


@cache
def sent_counter(channel: str, outbox: bool = False) -> Counter:
    """``SENT`` for one channel, to a provider or the outbox; cached because ``labels()`` takes
    a lock on every call."""
    return SENT.labels(str(channel), "outbox" if outbox else "provider")


@cache
def bucket_wait(channel: str) -> Histogram:
    """``BUCKET_WAIT`` for one channel, cached as :func:`sent_counter` (in a peak every send
    waits for its bucket: a ``labels()`` lock and lookup each; issue 20)."""
    return BUCKET_WAIT.labels(str(channel))
