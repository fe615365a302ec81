"""The fleet's worker counters in the web's ``/metrics``, read from ``worker_heartbeats``.

Each worker writes its counters every few seconds (``scheduler/heartbeat.py``); a scrape of any
web process renders them as ``medremind_fleet_<counter>{worker=..., <its labels>}`` plus
``medremind_fleet_worker_silent_seconds{worker}`` and ``medremind_fleet_workers_alive`` (heard
from within ``ALIVE_SECONDS``, and not stopped: a clean stop's last heartbeat says so).
Counters are per worker (a restarted worker starts again from 0, which Prometheus's ``rate``
reads as a reset): sum them in queries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from core.sql import query
from scheduler.breaker import account_label

logger = logging.getLogger(__name__)

ALIVE_SECONDS = 60.0  # a worker heard from within this is alive (heartbeats every 10 s)
_QUERY_TIMEOUT_SECONDS = 2.0
_PREFIX = "medremind_"


class _FleetCollector:
    """Renders heartbeat rows as metric families (a one-scrape collector)."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def collect(self) -> Iterator[Metric]:
        families: dict[tuple[str, tuple[str, ...]], CounterMetricFamily] = {}
        silent = GaugeMetricFamily(
            "medremind_fleet_worker_silent_seconds",
            "Seconds since each worker's last heartbeat (workers heard from in the last hour).",
            labels=["worker"],
        )
        breakers = GaugeMetricFamily(
            "medremind_fleet_breaker_open",
            "1 while a worker's circuit breaker for a provider account is open or half-open"
            " (at its last heartbeat).",
            labels=["worker", "channel", "account"],
        )
        alive = 0
        for row in self.rows:
            worker = row["worker_id"]
            silent.add_metric([worker], row["silent_seconds"])
            # A clean stop's last heartbeat: its counters stay (for rates), it is not alive.
            if not row["stopped"]:
                for b in row["breakers"] or []:
                    # The label the logs and `medremind check` name it by: a sender's number
                    # or an SMTP login is no metric label (scrapes are kept for weeks).
                    account = account_label(str(b["account"]))
                    breakers.add_metric([worker, str(b["channel"]), account], 1.0)
                alive += row["silent_seconds"] <= ALIVE_SECONDS
            for name, labels, value in row["counters"] or []:
                base = str(name).removeprefix(_PREFIX).removesuffix("_total")
                keys = tuple(sorted(labels))
                family = families.get((base, keys))
                if family is None:
                    family = families[(base, keys)] = CounterMetricFamily(
                        f"medremind_fleet_{base}",
                        f"The workers' {base.replace('_', ' ')} (from their heartbeats).",
                        labels=["worker", *keys],
                    )
                family.add_metric([worker, *(str(labels[k]) for k in keys)], float(value))
        yield from families.values()
        yield breakers
        yield silent
        yield GaugeMetricFamily(
            "medremind_fleet_workers_alive",
            f"Workers that sent a heartbeat in the last {ALIVE_SECONDS:.0f} seconds and have"
            " not stopped.",
            value=alive,
        )


async def fleet_metrics(pool: Any) -> bytes:
    """The fleet's families in Prometheus text format; empty when the database does not answer."""
    try:
        async with asyncio.timeout(_QUERY_TIMEOUT_SECONDS):
            rows = await pool.fetch(query("web", "worker_heartbeats"))
    except Exception as exc:  # a scrape never fails because the database did
        logger.warning("fleet metrics unavailable", extra={"error_type": type(exc).__name__})
        return b""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_FleetCollector(list(rows)))
    return generate_latest(registry)
