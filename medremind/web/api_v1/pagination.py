"""Cursor pagination: a cursor is its list's name and the last row's sort key, base64url-encoded.

Stable while rows are added (no skipped or repeated rows, unlike offsets) and one index range
scan per page whatever the depth. The list's name is in the cursor because every list's sort key
has the same shape (a time and an id): a cursor of ``GET /messages`` passed to
``GET /patients`` was read as a patient's creation time and answered an empty last page, which
an integrator's sync loop takes for the end of its patients. It is a 422 naming the list the
cursor belongs to.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field

from medremind.web.errors import ValidationFailed

# The lists that page, by the name of their path (GET /api/v1/<listing>). A webhook's delivery
# log names its webhook too, so that another webhook's cursor is refused, not read as a time.
LISTINGS = frozenset({"messages", "patients", "appointments"})
_DELIVERIES = re.compile(r"webhooks/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/deliveries")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200

# The query fields of every paged list.
Limit = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page")
Cursor = Field(None, max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page")


def encode_cursor(listing: str, at: datetime, row_id: uuid.UUID) -> str:
    """The cursor of ``GET /<listing>`` after a row with sort key ``(at, row_id)``."""
    raw = json.dumps([listing, at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None, listing: str) -> tuple[datetime | None, uuid.UUID | None]:
    """``(at, id)`` of a cursor this API gave out for ``GET /<listing>``; 422 for anything else,
    naming the list a cursor of another one belongs to."""
    if value is None:
        return None, None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        fields = json.loads(raw)
        # Two fields: a cursor given out before lists were named in it (they are short-lived).
        named, at, row_id = fields if len(fields) == 3 else (listing, *fields)
        if named not in LISTINGS and not _DELIVERIES.fullmatch(named):
            raise ValueError("not one of ours")
        # A forged cursor can hold any JSON: uuid.UUID(5) raises AttributeError, not ValueError.
        if not isinstance(at, str) or not isinstance(row_id, str):
            raise ValueError("not one of ours")
        parsed = datetime.fromisoformat(at)
        # Any aware time: a cursor carries a row's time as stored, and rows written in SQL (an
        # integration's insert into scheduled_messages) hold any year. A range here refused the
        # API's own next_cursor after such a row ("is not a cursor this API gave out"), and the
        # rest of the list could not be read.
        if parsed.tzinfo is None:
            raise ValueError("not one of ours")
        after = uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor", "is not a cursor this API gave out; pass `next_cursor` as it came"
        ) from None
    if named != listing:
        raise ValidationFailed(
            "cursor",
            f"is a cursor of GET /api/v1/{named}, not of this list; pass the `next_cursor` "
            f"that GET /api/v1/{listing} gave with its previous page",
        )
    return parsed, after


def page(
    rows: list[Any], limit: int, key: str, render: Callable[[Any], Any], *, listing: str
) -> dict[str, Any]:
    """``{"data", "next_cursor"}`` from up to ``limit + 1`` rows of ``GET /<listing>`` sorted by
    ``(key, id)``."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(listing, rows[-1][key], rows[-1]["id"]) if more else None
    return {"data": [render(r) for r in rows], "next_cursor": cursor}
