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
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import Query, Request
from pydantic import BaseModel, Field, create_model
from starlette.responses import Response

from core.spreadsheet_cells import inert_cell
from core.sql import query
from medremind.web.api_v1.common import Org, State
from medremind.web.api_v1.models import RequestModel
from medremind.web.api_v1.routing import router as new_router
from medremind.web.errors import ValidationFailed

router = new_router("statistics")

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
        "outbox",
        "delivery_rate",
        "median_seconds_to_send",
        "p90_seconds_to_send",
        "median_seconds_to_delivery",
    ),
    "messages_by_day": ("day", "messages", "sent", "delivered", "failed", "outbox"),
    "replies": ("kind", "asked", "replied", "reply_rate"),
    "appointment_outcomes": ("status", "appointments"),
    "confirmation": ("reminded", "confirmed", "confirmation_rate"),
    "no_show": ("reminder", "with_outcome", "attended", "no_show", "no_show_rate"),
    "adherence": ("patients", "doses", "taken", "skipped", "missed", "adherence"),
    "adherence_by_day": ("day", "taken", "skipped", "missed", "adherence"),
    "adherence_by_patient": ("band", "patients"),
    "telegram_paid_broadcast": ("messages", "stars"),
}
_TABLE_DOCS = {
    "messages_by_channel_status": (
        "Messages scheduled in the period, by channel and status; status `outbox`: written to "
        "the outbox folder for want of credentials, never received by the patient."
    ),
    "delivery": (
        "Per channel: delivery_rate = sent or delivered / (those + outbox + failed + expired); "
        "seconds from the scheduled time to the send and to the carrier's delivery receipt. "
        "`outbox` messages (no credentials: written to a folder) are not counted as sent."
    ),
    "messages_by_day": "Per day (the clinic's calendar); `outbox` is not counted as sent.",
    "replies": (
        "Reminders and confirmation requests that reached the patient, and how many the patient "
        "answered (a dose answer, or confirm / reschedule / cancel)."
    ),
    "appointment_outcomes": "Appointments starting in the period by status (completed = attended).",
    "confirmation": "Appointments with a reminder sent, and how many the patient confirmed.",
    "no_show": "No-show rate among appointments with an outcome, by what the reminders achieved.",
    "adherence": "Doses due in the period and answered or missed; adherence = taken / all.",
    "adherence_by_day": "Adherence per day.",
    "adherence_by_patient": "Patients by their adherence in the period.",
    "telegram_paid_broadcast": (
        "Telegram messages sent with allow_paid_broadcast in the period (the clinic's "
        "telegram_paid_broadcast_after_seconds) and the Stars Telegram took for them (0.1 each)."
    ),
}
_RATE = Annotated[float | None, Field(ge=0, le=1)]
_COLUMN_TYPES: dict[str, Any] = {
    "day": date,
    "channel": str,
    "status": str,
    "kind": str,
    "reminder": Literal["confirmed", "reminded_not_confirmed", "not_reminded"],
    "band": Literal["0-49%", "50-79%", "80-100%"],
    "stars": Annotated[float, Field(ge=0)],
}
_EARLIEST = date(2000, 1, 1)
_LATEST = date(2999, 12, 31)


def _column(name: str) -> Any:
    if name in _COLUMN_TYPES:
        return _COLUMN_TYPES[name]
    if name.endswith("_rate") or name == "adherence":
        return _RATE
    if "seconds" in name:
        return float | None
    return Annotated[int, Field(ge=0)]


def _row_model(table: str) -> type[BaseModel]:
    camel = "".join(part.title() for part in table.split("_"))
    # Every column is there in practice; a missing one is left out, not a 500.
    fields: dict[str, Any] = {c: (_column(c) | None, None) for c in TABLES[table]}
    return create_model(f"{camel}Row", **fields)


# One row model per table, generated from TABLES, so the document lists every column.
_TABLE_FIELDS: dict[str, Any] = {
    name: (list[_row_model(name)] | None, Field(None, description=_TABLE_DOCS[name]))  # type: ignore[misc]
    for name in TABLES
}
StatisticsTables = create_model("StatisticsTables", **_TABLE_FIELDS)


class Statistics(BaseModel):
    organization_id: uuid.UUID
    from_: date = Field(alias="from")
    to: date
    timezone: str
    tables: StatisticsTables  # type: ignore[valid-type]


class StatisticsQuery(RequestModel):
    from_: date | None = Field(None, alias="from", description="First day (default: 30 days ago)")
    to: date | None = Field(None, description="Last day, included (default: today)")
    format: Literal["json", "csv"] | None = None
    table: Literal[tuple(TABLES)] | None = None  # type: ignore[valid-type]


def _day(value: date | None, name: str) -> date | None:
    if value is not None and not _EARLIEST <= value <= _LATEST:
        raise ValidationFailed(name, f"must be between {_EARLIEST} and {_LATEST}")
    return value


def period(
    params: StatisticsQuery, timezone: str, today: date
) -> tuple[date, date, datetime, datetime]:
    """The requested days (``from``..``to``, both included, the clinic's calendar) and the
    instants they span, ``[start, end)``. Default: the last 30 days up to today."""
    last = _day(params.to, "to") or today
    first = _day(params.from_, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed("from", "must not be after `to`")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed("to", f"the period may span at most {MAX_DAYS} days")
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    return first, last, start, end


def wants_csv(request: Request, fmt: str | None) -> bool:
    """``format=csv``, or an ``Accept`` header that prefers CSV and names no JSON."""
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "").lower()
    return "text/csv" in accept and "json" not in accept


def csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Rows as CSV with a header line; missing values are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        # Our own numbers, dates and names today; kept inert all the same, as the dashboard's.
        writer.writerow(["" if row.get(c) is None else inert_cell(str(row[c])) for c in columns])
    return out.getvalue()


@router.get(
    "/statistics",
    response_model=Statistics,
    summary="Messaging, appointment and adherence statistics for a period",
    operation_id="getStatistics",
    response_model_exclude_unset=True,
    responses={
        200: {
            "description": "The statistics (JSON), or one table (CSV)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def get_statistics(
    org_id: Org, state: State, request: Request, params: Annotated[StatisticsQuery, Query()]
) -> Any:
    """Days are the clinic's calendar days, `from` and `to` included (default: the last 30 days;
    at most 366). `format=csv` (or `Accept: text/csv`) with `table` answers that table as CSV."""
    as_csv = wants_csv(request, params.format)
    table = params.table
    if as_csv and table is None:
        raise ValidationFailed("table", "CSV answers one table; name it: " + ", ".join(TABLES))
    async with state.pool.acquire() as conn:
        timezone = await conn.fetchval(query("clinic_ops", "organization_timezone"), org_id)
        first, last, start, end = period(
            params, timezone, state.clock().astimezone(ZoneInfo(timezone)).date()
        )
        stats = await conn.fetchval(query("clinic_ops", "clinic_statistics"), org_id, start, end)
        paid = await conn.fetchrow(query("clinic_ops", "clinic_paid_broadcast"), org_id, start, end)
    tables = {name: stats.get(name) or [] for name in TABLES}
    if paid is not None:
        tables["telegram_paid_broadcast"] = [
            {"messages": paid["messages"], "stars": float(paid["stars"])}
        ]
    if as_csv:
        assert table is not None
        filename = f"{table}_{first.isoformat()}_{last.isoformat()}.csv"
        return Response(
            csv_text(tables[table], TABLES[table]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return {
        "organization_id": org_id,
        "from": first,
        "to": last,
        "timezone": timezone,
        "tables": {table: tables[table]} if table else tables,
    }
