"""Cursor pagination: a cursor is the last row's sort key, base64url-encoded.

Stable while rows are added (no skipped or repeated rows, unlike offsets) and one index range
scan per page whatever the depth.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field

from medremind.web.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 200

# The query fields of every paged list.
Limit = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page")
Cursor = Field(None, max_length=MAX_CURSOR_LENGTH, description="`next_cursor` of the previous page")


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """The cursor after a row whose sort key is ``(at, row_id)``."""
    raw = json.dumps([at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> tuple[datetime | None, uuid.UUID | None]:
    """``(at, id)`` of a cursor this API gave out; 422 for anything else."""
    if value is None:
        return None, None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        at, row_id = json.loads(raw)
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not 1970 <= parsed.year <= 9998:
            raise ValueError("not one of ours")
        return parsed, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor", "is not a cursor this API gave out; pass `next_cursor` as it came"
        ) from None


def page(rows: list[Any], limit: int, key: str, render: Callable[[Any], Any]) -> dict[str, Any]:
    """``{"data", "next_cursor"}`` from up to ``limit + 1`` rows sorted by ``(key, id)``."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1][key], rows[-1]["id"]) if more else None
    return {"data": [render(r) for r in rows], "next_cursor": cursor}
