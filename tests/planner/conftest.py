"""Fixtures of the planner tests: a clinic, a consented patient, and raw dose rows."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests import factories


@pytest.fixture
async def org(admin_conn: asyncpg.Connection) -> asyncpg.Record:
    """A clinic with the default caps and offsets."""
    return await factories.create_organization(admin_conn)


async def make_dose(
    conn: asyncpg.Connection,
    schedule: asyncpg.Record,
    due_at: datetime,
    *,
    reminder_status: str = "pending",
    **overrides: Any,
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """A dose event and its reminder row, as the planner would have made them."""
    dose = await factories.create_dose_event(conn, schedule, due_at)
    values = {
        "scheduled_time": due_at,
        "kind": "medication_reminder",
        "message_content": None,
        "priority": 1,
        "payload": {"dose_event_id": str(dose["id"])},
        "expires_at": due_at + timedelta(hours=2),
        "idempotency_key": f"test:{uuid.uuid4()}",
        "dose_event_id": dose["id"],
        "status": reminder_status,
    } | overrides
    if reminder_status in ("sent", "delivered"):
        values.setdefault("sent_at", due_at)
    message = await factories.create_message(conn, schedule["patient_id"], **values)
    return dose, message


async def messages(
    conn: asyncpg.Connection, patient_id: Any, kind: str, status: str | None = "pending"
) -> list[asyncpg.Record]:
    """Rows of one kind for a patient (in one status, or any), in time order."""
    return await conn.fetch(
        """select * from scheduled_messages
            where patient_id = $1 and kind = $2 and ($3::text is null or status = $3)
            order by scheduled_time, idempotency_key""",
        patient_id,
        kind,
        status,
    )


async def mark_sent(conn: asyncpg.Connection, message_id: Any, at: datetime) -> None:
    """What the dispatcher does once a row went out."""
    await conn.execute(
        "update scheduled_messages set status = 'sent', sent_at = $2 where id = $1",
        message_id,
        at,
    )
