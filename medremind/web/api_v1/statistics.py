"""``GET /api/v1/statistics``: a clinic's messaging, appointment and adherence figures by period.

The figures come from one SQL function, ``public.clinic_statistics`` (migration
20260101008700), which the dashboard's statistics page calls too, so both show the same numbers.
Each table is a list of flat rows; ``?format=csv&table=<name>`` (or ``Accept: text/csv``) answers
one table as CSV.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from core.sql import query
from medremind.web.api_v1.common import json_response, organization
from medremind.web.errors import ValidationFailed
from medremind.web.state import web_state

DEFAULT_DAYS = 30
# One year at most: the work is bounded by the clinic's rows in the period, and a year of them is
# what a yearly report needs.
MAX_DAYS = 366

# Every table and its columns, in the order a spreadsheet shows them (jsonb does not keep order).
TABLES: dict[str, tuple[str, ...]] = {
    "messages_by_channel_status": ("channel", "status", "messages"),
    "delivery": (
        "channel",
        "messages",
        "sent",
        "delivered",
        "failed",
        "expired",
        "cancelled",
        "waiting",
        "delivery_rate",
        "median_seconds_to_send",
        "p90_seconds_to_send",
        "median_seconds_to_delivery",
    ),
    "messages_by_day": ("day", "messages", "sent", "delivered", "failed"),
    "replies": ("kind", "asked", "replied", "reply_rate"),
    "appointment_outcomes": ("status", "appointments"),
    "confirmation": ("reminded", "confirmed", "confirmation_rate"),
    "no_show": ("reminder", "with_outcome", "attended", "no_show", "no_show_rate"),
    "adherence": ("patients", "doses", "taken", "skipped", "missed", "adherence"),
    "adherence_by_day": ("day", "taken", "skipped", "missed", "adherence"),
    "adherence_by_patient": ("band", "patients"),
}
FORMATS = ("json", "csv")
# Dates far outside these are typing mistakes (and near year 1 or 9999 overflow the arithmetic).
_EARLIEST = date(2000, 1, 1)
_LATEST = date(2999, 12, 31)
_PARAMS = frozenset({"from", "to", "format", "table"})


def _day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(name, "must be a date as YYYY-MM-DD") from None
    if not _EARLIEST <= day <= _LATEST:
        raise ValidationFailed(name, f"must be between {_EARLIEST} and {_LATEST}")
    return day


def period(request: Request, timezone: str, today: date) -> tuple[date, date, datetime, datetime]:
    """The requested days (``from``..``to``, both included, the clinic's calendar) and the
    instants they span, ``[start, end)``. Default: the last 30 days up to today."""
    last = _day(request, "to") or today
    first = _day(request, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed("from", "must not be after `to`")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed("to", f"the period may span at most {MAX_DAYS} days")
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    return first, last, start, end


def wants_csv(request: Request) -> bool:
    """``format=csv``, or an ``Accept`` header that prefers CSV and names no JSON."""
    fmt = request.query_params.get("format")
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValidationFailed("format", "must be json or csv")
        return fmt == "csv"
    accept = request.headers.get("accept", "").lower()
    return "text/csv" in accept and "json" not in accept


def csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Rows as CSV with a header line; missing values are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return out.getvalue()


async def get_statistics(request: Request) -> Response:
    """``GET /api/v1/statistics?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv&table=<name>]``."""
    org_id = await organization(request)
    for name in request.query_params:
        if name not in _PARAMS:
            raise ValidationFailed(name, "unknown query parameter (from, to, format, table)")
    as_csv = wants_csv(request)
    table = request.query_params.get("table")
    if table is not None and table not in TABLES:
        raise ValidationFailed("table", "must be one of " + ", ".join(TABLES))
    if as_csv and table is None:
        raise ValidationFailed("table", "CSV answers one table; name it: " + ", ".join(TABLES))
    state = web_state(request)
    async with state.pool.acquire() as conn:
        timezone = await conn.fetchval(query("clinic_ops", "organization_timezone"), org_id)
        first, last, start, end = period(
            request, timezone, state.clock().astimezone(ZoneInfo(timezone)).date()
        )
        stats = await conn.fetchval(query("clinic_ops", "clinic_statistics"), org_id, start, end)
    tables = {name: stats.get(name) or [] for name in TABLES}
    if as_csv:
        assert table is not None
        filename = f"{table}_{first.isoformat()}_{last.isoformat()}.csv"
        return Response(
            csv_text(tables[table], TABLES[table]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    body: dict[str, Any] = {
        "organization_id": str(uuid.UUID(str(org_id))),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "timezone": timezone,
        "tables": {table: tables[table]} if table else tables,
    }
    return json_response(body)
