"""HTTP and inbound metrics in prometheus_client's default registry, and ``GET /metrics``.

The dispatcher and planner register theirs in the same registry (``scheduler/metrics.py``); it is
imported here when present so one scrape of the web process shows them all. Counters live per
process, so what the workers see of the queue is also read from the database at each scrape:
due messages per platform and how late the oldest is (the morning-peak lag), inbound updates
waiting to be processed, and schedules the planner has not planned up to now. Any number of
worker processes then shows up as one figure. The workers' own counters (sent, failed by class,
retried...) come from their heartbeats as ``medremind_fleet_*{worker=...}``
(``medremind/web/fleet_metrics.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import math
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

from core.sql import query
from medremind.web.fleet_metrics import fleet_metrics
from scheduler.step_failures import STEPS

logger = logging.getLogger(__name__)

# A scrape must answer even when the database does not.
BACKLOG_QUERY_TIMEOUT_S = 2.0
_PLATFORMS = ("telegram", "whatsapp", "sms", "email", "console", "auto")

HTTP_REQUESTS = Counter(
    "medremind_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "medremind_http_request_duration_seconds",
    "Time from request to the end of the response body, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
INBOUND_UPDATES = Counter(
    "medremind_inbound_updates_total",
    "Inbound webhook deliveries by channel and outcome (stored, duplicate, ignored, rejected;"
    " left_to_sweep: stored, its chat had too many turns waiting, answered by the minute's"
    " sweep; Telegram: membership, refused).",
    ["channel", "outcome"],
)
STATUS_CALLBACKS = Counter(
    "medremind_delivery_status_callbacks_total",
    "Provider delivery status callbacks by status and outcome (applied; duplicate; pending: stored"
    " before the send was recorded, applied when it is).",
    ["status", "outcome"],
)
WEBHOOK_DROPPED = Counter(
    "medremind_webhook_dropped_total",
    "Authenticated provider webhook bodies acknowledged (2xx) and dropped because they cannot be"
    " used (not JSON, nested too deep, a lone surrogate, a number out of range; a signed Twilio"
    " form that is no message or status), by channel and problem.",
    ["channel", "problem"],
)
CREDENTIALS_HELD = Counter(
    "medremind_credentials_held_total",
    "Requests refused (429) without checking their credential: their client address had sent too"
    " many wrong ones (MEDREMIND_AUTH_FAILURES_PER_CLIENT), by door (api_key, admin_token,"
    " pause_token, sign_in_link, session).",
    ["door"],
)
INBOUND_PROCESSING_ERRORS = Counter(
    "medremind_inbound_processing_errors_total",
    "Stored inbound updates whose processing after the 200 raised (resumed later).",
)


DUE_MESSAGES = Gauge(
    "medremind_due_messages",
    "Pending scheduled messages already due (read from the database at scrape time).",
    ["platform"],
)
DUE_OLDEST_AGE = Gauge(
    "medremind_due_oldest_age_seconds",
    "How late the oldest due pending message is, per platform (0 when none is due).",
    ["platform"],
)
INBOUND_WAITING = Gauge(
    "medremind_inbound_unprocessed",
    "Stored inbound updates not processed yet (read from the database at scrape time).",
)
SCHEDULES_BEHIND = Gauge(
    "medremind_schedules_unplanned",
    "Active reminder schedules not planned up to now (the planner's backlog; 0 when healthy).",
)
INBOUND_OLDEST_AGE = Gauge(
    "medremind_inbound_unprocessed_oldest_age_seconds",
    "Age of the oldest unprocessed inbound update.",
)
SCHEDULES_PLANNING_FAILED = Gauge(
    "medremind_schedules_planning_failed",
    "Schedules the planner failed to plan (a statement raised on their rows; planner_failures"
    " lists them, the worker's log names them by id): their patients get no reminders from them"
    " until one is fixed; the other schedules are planned. Tried again each tick.",
)
PLANNER_STEPS_FAILED = Gauge(
    "medremind_planner_steps_failed",
    "Patients (for step appointments: appointments) a planner step failed for (follow-ups and"
    " the missed mark, refills, a pause's end...; planner_step_failures lists them, the worker's"
    " log names them by id): left out of that step until fixed, tried again alone each tick;"
    " the other patients are done.",
    ["step"],
)
PATIENTS_ZONE_UNKNOWN = Gauge(
    "medremind_patients_timezone_unknown",
    "Patients (not erased) whose timezone no zone database knows (Etc/Unknown, stored for"
    " 'Factory' before the API refused it): nothing is planned for them until a clinic sets it"
    " (GET /api/v1/patients?timezone_unknown=true lists a clinic's).",
)
WEBHOOKS_DUE = Gauge(
    "medremind_outgoing_webhooks_due",
    "Outgoing webhook deliveries due and not being posted (read from the database at scrape"
    " time; a retry waiting for its time is not counted).",
)
WEBHOOKS_OLDEST_AGE = Gauge(
    "medremind_outgoing_webhooks_due_oldest_age_seconds",
    "How late the oldest due outgoing webhook delivery is (0 when none is due).",
)
DATABASE_UP = Gauge(
    "medremind_database_up",
    "1 when this web process's last read of the backlog from the database answered, 0 when it"
    " failed (the backlog gauges are then NaN: unknown, not zero).",
)


@functools.lru_cache(maxsize=1024)
def http_series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The request counter and duration histogram of one (method, route, status).

    ``labels()`` validates and looks its arguments up under a lock on every call; the series are
    fixed once created, so the web process keeps them (the bound only caps odd methods).
    """
    return HTTP_REQUESTS.labels(method, route, str(status)), HTTP_DURATION.labels(method, route)


@functools.lru_cache(maxsize=64)
def inbound_series(channel: str, outcome: str) -> Any:
    """The inbound counter of one (channel, outcome), kept like :func:`http_series`."""
    return INBOUND_UPDATES.labels(channel, outcome)


async def refresh_backlog(pool: object) -> None:
    """Set the backlog gauges from the database; on failure, NaN and ``medremind_database_up 0``.

    The gauges once kept their last values when the database stopped answering: a web process
    that last saw an empty queue went on showing 0 due, 0 s late through a whole outage (found
    by stopping PostgreSQL under two web processes), so the lag alert could not fire.
    """
    try:
        async with asyncio.timeout(BACKLOG_QUERY_TIMEOUT_S):
            async with pool.acquire() as conn:  # type: ignore[attr-defined]
                due = await conn.fetch(query("web", "due_backlog"))
                waiting = await conn.fetchrow(query("web", "inbound_backlog"))
                behind = await conn.fetchval(query("web", "planner_backlog"))
                unknown_zone = await conn.fetchval(query("web", "patients_zone_unknown"))
                planning_failed = await conn.fetchval(query("web", "planning_failed"))
                steps_failed = await conn.fetch(query("web", "planner_steps_failed"))
                webhooks = await conn.fetchrow(query("web", "webhook_backlog"))
    except Exception as exc:  # a metrics scrape never fails because the database did
        logger.warning("backlog metrics unavailable", extra={"error_type": type(exc).__name__})
        _backlog_unknown()
        return
    DATABASE_UP.set(1)
    by_platform = {row["platform"]: row for row in due}
    for platform in _PLATFORMS:
        row = by_platform.get(platform)
        DUE_MESSAGES.labels(platform).set(row["due"] if row else 0)
        DUE_OLDEST_AGE.labels(platform).set(max(0.0, row["oldest_seconds"]) if row else 0)
    INBOUND_WAITING.set(waiting["waiting"])
    INBOUND_OLDEST_AGE.set(max(0.0, waiting["oldest_seconds"]))
    SCHEDULES_BEHIND.set(behind)
    PATIENTS_ZONE_UNKNOWN.set(unknown_zone)
    SCHEDULES_PLANNING_FAILED.set(planning_failed)
    failed_by_step = {row["step"]: row["n"] for row in steps_failed}
    for step in STEPS:
        PLANNER_STEPS_FAILED.labels(step).set(failed_by_step.get(step, 0))
    WEBHOOKS_DUE.set(webhooks["due"])
    WEBHOOKS_OLDEST_AGE.set(max(0.0, webhooks["oldest_seconds"]))


def _backlog_unknown() -> None:
    """Every backlog gauge NaN (Prometheus' "no value": no comparison with it holds)."""
    DATABASE_UP.set(0)
    for platform in _PLATFORMS:
        DUE_MESSAGES.labels(platform).set(math.nan)
        DUE_OLDEST_AGE.labels(platform).set(math.nan)
    for step in STEPS:
        PLANNER_STEPS_FAILED.labels(step).set(math.nan)
    for gauge in (
        INBOUND_WAITING,
        INBOUND_OLDEST_AGE,
        SCHEDULES_BEHIND,
        SCHEDULES_PLANNING_FAILED,
        PATIENTS_ZONE_UNKNOWN,
        WEBHOOKS_DUE,
        WEBHOOKS_OLDEST_AGE,
    ):
        gauge.set(math.nan)


def _load_other_metrics() -> None:
    """Register the scheduler's metrics when its module exists (it may not in a slim deploy)."""
    with contextlib.suppress(ImportError):
        importlib.import_module("scheduler.metrics")


# ``/metrics`` answers anyone (it holds no patient data): what it reads from the database is read
# at most once per this many seconds per process, however often it is asked (a scraper asks every
# 15-60 s; a flood of requests during the morning peak would otherwise scan the due backlog for
# each one), and by one request at a time.
DATABASE_METRICS_SECONDS = 5.0


class _DatabaseMetrics:
    """The database's part of a scrape, shared by the scrapes of a few seconds."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._read_at = -DATABASE_METRICS_SECONDS
        self._fleet = b""

    async def read(self, pool: object) -> bytes:
        """Refresh the backlog gauges and the fleet's counters unless read lately; the fleet's."""
        async with self._lock:
            now = asyncio.get_running_loop().time()
            if now - self._read_at >= DATABASE_METRICS_SECONDS:
                await refresh_backlog(pool)
                self._fleet = await fleet_metrics(pool)  # the workers', from their heartbeats
                self._read_at = asyncio.get_running_loop().time()
            return self._fleet


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the default registry in Prometheus text format."""
    _load_other_metrics()
    pool = request.app.state.web.database.pool
    fleet = b""
    if pool is not None:
        reader = getattr(request.app.state, "database_metrics", None)
        if reader is None:  # one per app (tests run several apps in one process)
            reader = request.app.state.database_metrics = _DatabaseMetrics()
        fleet = await reader.read(pool)
    return Response(generate_latest(REGISTRY) + fleet, media_type=CONTENT_TYPE_LATEST)
