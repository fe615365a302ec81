"""A worker's counters where an operator can scrape them.

Two ways, both on by configuration of ``medremind worker``:

* its own ``/metrics`` on ``MEDREMIND_WORKER_METRICS_PORT`` (prometheus_client's server in a
  thread), for platforms that can scrape each worker;
* a heartbeat row in ``worker_heartbeats`` every ``MEDREMIND_WORKER_HEARTBEAT_SECONDS`` with the
  worker's counters and its circuit breakers that are not closed, which the web's ``/metrics``
  shows for the whole fleet (``medremind_fleet_*{worker=...}``, see
  ``medremind/web/fleet_metrics.py``; a Procfile platform routes requests to web processes only);
  ``medremind check`` counts the workers alive (the breakers it prints are the fleet's table's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from prometheus_client import REGISTRY, Metric

from core.sql import query
from scheduler import metrics

# The worker's counters that go into the heartbeat: what an operator alerts on.
HEARTBEAT_COUNTERS = (
    metrics.SENT,
    metrics.FAILED,
    metrics.RETRIED,
    metrics.EXPIRED,
    metrics.DEFERRED,
    metrics.REAPED,
    metrics.LEASE_LOST,
    metrics.UNKNOWN_OUTCOMES,
    metrics.UNKNOWN_FOUND,
    metrics.BREAKER_OPENED,
)
_STATEMENT_TIMEOUT_SECONDS = 5.0


def counter_samples(families: Iterable[Metric]) -> list[list[Any]]:
    """``[[name, {label: value}, value], ...]`` of the ``_total`` samples of ``families``."""
    return [
        [sample.name, dict(sample.labels), sample.value]
        for family in families
        for sample in family.samples
        if sample.name.endswith("_total")
    ]


def snapshot() -> list[list[Any]]:
    """This process's heartbeat counters now."""
    return counter_samples(f for counter in HEARTBEAT_COUNTERS for f in counter.collect())


async def beat(
    pool: asyncpg.Pool,
    worker_id: str,
    started_at: datetime,
    now: datetime,
    breakers: Sequence[Mapping[str, Any]] = (),
    *,
    stopped: bool = False,
) -> None:
    """Write this worker's heartbeat (and forget workers silent for a day).

    ``breakers``: its circuit breakers not closed (:meth:`scheduler.breaker.Breakers.snapshot`);
    ``stopped``: the last, as the worker stops cleanly (no longer counted alive).
    """
    await pool.execute(
        query("dispatch", "heartbeat"),
        worker_id,
        started_at,
        now,
        snapshot(),
        list(breakers),
        stopped,
        timeout=_STATEMENT_TIMEOUT_SECONDS,
    )


def serve_metrics(port: int) -> Any:
    """Serve this process's registry on ``port`` (all interfaces); returns the server to close."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, registry=REGISTRY)
    return server
