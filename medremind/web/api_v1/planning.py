"""The one place the API hands appointment changes to the planner (``scheduler.appointments``).

Each function runs on the caller's connection, inside its transaction, so the appointment row
and its reminders change together or not at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg


async def planned(conn: asyncpg.Connection, appointment_id: uuid.UUID, now: datetime) -> None:
    """A new booking: confirmation and reminders."""
    from scheduler.appointments import plan_appointment

    await plan_appointment(conn, appointment_id, now=now)


async def rescheduled(
    conn: asyncpg.Connection, appointment_id: uuid.UUID, starts_at: datetime, now: datetime
) -> None:
    """A new start time: old reminders cancelled, new ones planned, a notice sent."""
    from scheduler.appointments import reschedule_appointment

    await reschedule_appointment(conn, appointment_id, starts_at, now=now)


async def replanned(conn: asyncpg.Connection, appointment_id: uuid.UUID, now: datetime) -> None:
    """Same time, new reminder offsets: the reminders are planned again."""
    from scheduler.appointments import reschedule_appointment

    row = await conn.fetchrow("select starts_at from appointments where id = $1", appointment_id)
    await reschedule_appointment(conn, appointment_id, row["starts_at"], now=now)


async def cancelled(conn: asyncpg.Connection, appointment_id: uuid.UUID, now: datetime) -> None:
    """Cancelled: pending reminders cancelled, a notice sent."""
    from scheduler.appointments import cancel_appointment

    await cancel_appointment(conn, appointment_id, now=now)
