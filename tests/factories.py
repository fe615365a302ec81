"""Rows for tests, inserted through a real connection (usually the ``admin_conn`` fixture).

Each helper takes keyword overrides for any column, so a test states only what it cares about.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg

# Numbers for phone_number(): consecutive from a random start, so the numbers of one test never
# collide (four random digits each did, 1 in 10,000 a pair: a CI run's duplicate contact point).
_PHONE_SUFFIXES = itertools.count(random.randrange(10_000))


def phone_number(prefix: str = "+1415555") -> str:
    """A phone number for a test's patient, different from every other this process made (the
    last four digits count up, wrapping after 10,000)."""
    return f"{prefix}{next(_PHONE_SUFFIXES) % 10_000:04d}"


async def _insert(conn: asyncpg.Connection, table: str, values: dict[str, Any]) -> asyncpg.Record:
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    sql = f"insert into {table} ({columns}) values ({params}) returning *"
    row = await conn.fetchrow(sql, *values.values())
    assert row is not None
    return row


async def create_organization(conn: asyncpg.Connection, **overrides: Any) -> asyncpg.Record:
    """An organization (clinic)."""
    values = {"name": f"Clinic {uuid.uuid4().hex[:6]}", "timezone": "UTC"} | overrides
    return await _insert(conn, "organizations", values)


async def create_clinician(
    conn: asyncpg.Connection, organization_id: uuid.UUID, **overrides: Any
) -> asyncpg.Record:
    """An ``auth.users`` row and its clinician in ``organization_id``."""
    email = overrides.pop("email", f"dr.{uuid.uuid4().hex[:6]}@clinic.test")
    user = await _insert(conn, "auth.users", {"email": email})
    values = {"id": user["id"], "organization_id": organization_id, "display_name": "Dr Test"}
    return await _insert(conn, "clinicians", values | overrides)


async def create_patient(
    conn: asyncpg.Connection,
    organization_id: uuid.UUID | None = None,
    *,
    contacts: dict[str, str] | None = None,
    **overrides: Any,
) -> asyncpg.Record:
    """A consented patient with one contact point per ``contacts`` entry (channel -> address).

    The channel order defaults to the order of ``contacts``.
    """
    contacts = (
        {"telegram": str(100000000 + uuid.uuid4().int % 899999999)}
        if contacts is None
        else contacts
    )
    values = {
        "organization_id": organization_id,
        "display_name": "Test Patient",
        "timezone": "UTC",
        "consent_at": datetime.now(UTC),
        "channel_order": list(contacts) or ["telegram"],
    } | overrides
    patient = await _insert(conn, "patients", values)
    for channel, address in contacts.items():
        await _insert(
            conn,
            "contact_points",
            {"patient_id": patient["id"], "channel": channel, "address": address, "verified": True},
        )
    return patient


async def create_medication(
    conn: asyncpg.Connection,
    patient_id: uuid.UUID,
    *,
    times: tuple[time, ...] = (time(8, 0), time(20, 0)),
    schedule: dict[str, Any] | None = None,
    **overrides: Any,
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """A medication and its reminder schedule (daily at ``times`` by default)."""
    medication = await _insert(
        conn,
        "medications",
        {"patient_id": patient_id, "name": "Metformin", "dose": "500 mg"} | overrides,
    )
    values = {
        "medication_id": medication["id"],
        "patient_id": patient_id,
        "times_of_day": list(times),
        "start_date": date(2026, 1, 1),
    } | (schedule or {})
    return medication, await _insert(conn, "reminder_schedules", values)


async def create_dose_event(
    conn: asyncpg.Connection, schedule: asyncpg.Record, due_at: datetime, **overrides: Any
) -> asyncpg.Record:
    """A dose event of ``schedule`` due at ``due_at`` (local date and time taken as UTC's)."""
    values = {
        "schedule_id": schedule["id"],
        "medication_id": schedule["medication_id"],
        "patient_id": schedule["patient_id"],
        "due_at": due_at,
        "local_date": due_at.date(),
        "local_time": due_at.time(),
    } | overrides
    return await _insert(conn, "dose_events", values)


async def create_message(
    conn: asyncpg.Connection, patient_id: uuid.UUID, **overrides: Any
) -> asyncpg.Record:
    """A ``scheduled_messages`` row, due now, free text on the patient's channels."""
    values = {
        "patient_id": patient_id,
        "message_content": "Please remember your appointment",
        "scheduled_time": datetime.now(UTC),
        "platform": "auto",
        "kind": "free_text",
    } | overrides
    return await _insert(conn, "scheduled_messages", values)


async def create_due_reminder(
    conn: asyncpg.Connection, patient_id: uuid.UUID, due: datetime
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """A medication of the patient with a dose due at ``due`` and its reminder (rendered from
    the template at the send): (dose, message)."""
    _medication, schedule = await create_medication(conn, patient_id)
    dose = await create_dose_event(conn, schedule, due)
    message = await create_message(
        conn,
        patient_id,
        kind="medication_reminder",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=due,
    )
    return dose, message


async def create_webhook_event(
    conn: asyncpg.Connection, organization_id: Any, url: str, sealed_secret: str
) -> None:
    """A subscription of the clinic to ``message.status`` at ``url`` and one event for it (one
    delivery due now); ``sealed_secret``: its signing secret as stored (``seal_text``)."""
    await conn.execute(
        "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
        " values ($1, $2, '{message.status}', $3)",
        organization_id,
        url,
        sealed_secret,
    )
    await conn.execute(
        "select public.emit_webhook_event($1, 'message.status', '{\"status\": \"sent\"}')",
        organization_id,
    )


async def create_dose_reminder(
    conn: asyncpg.Connection, schedule: asyncpg.Record, due_at: datetime, **overrides: Any
) -> asyncpg.Record:
    """A dose of ``schedule`` due at ``due_at`` and its ``medication_reminder`` row, due then and
    expiring two hours later as the planner writes it (pending unless ``overrides`` say)."""
    dose = await create_dose_event(conn, schedule, due_at)
    values = {
        "kind": "medication_reminder",
        "message_content": None,
        "dose_event_id": dose["id"],
        "scheduled_time": due_at,
        "expires_at": due_at + timedelta(hours=2),
    } | overrides
    return await create_message(conn, schedule["patient_id"], **values)
