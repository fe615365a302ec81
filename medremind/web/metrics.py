"""HTTP and inbound metrics in prometheus_client's default registry, and ``GET /metrics``.

The dispatcher and planner register theirs in the same registry (``scheduler/metrics.py``); it is
imported here when present so one scrape of the web process shows them all.
"""

from __future__ import annotations

import contextlib
import importlib

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

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
    "Inbound webhook deliveries by channel and outcome (stored, duplicate, ignored, rejected).",
    ["channel", "outcome"],
)
STATUS_CALLBACKS = Counter(
    "medremind_delivery_status_callbacks_total",
    "Provider delivery status callbacks by status and outcome (applied, duplicate, unknown).",
    ["status", "outcome"],
)
INBOUND_PROCESSING_ERRORS = Counter(
    "medremind_inbound_processing_errors_total",
    "Stored inbound updates whose processing after the 200 raised (resumed later).",
)


def _load_other_metrics() -> None:
    """Register the scheduler's metrics when its module exists (it may not in a slim deploy)."""
    with contextlib.suppress(ImportError):
        importlib.import_module("scheduler.metrics")


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the default registry in Prometheus text format."""
    _load_other_metrics()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
