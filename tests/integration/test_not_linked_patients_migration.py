"""Patients "unreachable" before migration 20260101013600 only because they never had a channel.

A database migrated up to just before it holds a patient registered without a contact point
(an invite not opened yet) whose caregiver's notice "can no longer be reached" waits, a patient
whose only channel sent STOP, and a reachable one. Migrated to it: the first is not unreachable
and the notice is not sent; the other two keep their state and count as linked (a contact
point linked then; since migration 20260101013800 something must have reached the patient:
tests/integration/test_linked_once_reached_migration.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from tests.integration.partial_migrations import migrate_until, migrated_until

BEFORE = "20260101013410"
RULE = "20260101013600"


async def _patient(conn: asyncpg.Connection, contact: str | None) -> uuid.UUID:
    patient: uuid.UUID = await conn.fetchval(
        "insert into patients (display_name, channel_order) values ('Pat', '{sms}') returning id"
    )
    if contact is not None:
        await conn.execute(
            "insert into contact_points (patient_id, channel, address) values ($1, 'sms', $2)",
            patient,
            contact,
        )
    return patient


async def test_only_patients_who_had_a_channel_stay_unreachable(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        never = await _patient(conn, None)
        stopped = await _patient(conn, "+14155550111")
        await conn.execute(
            "update contact_points set opted_out_at = now() where patient_id = $1", stopped
        )
        reachable = await _patient(conn, "+14155550112")
        soon = datetime.now(UTC) + timedelta(minutes=30)
        notice: uuid.UUID = await conn.fetchval(
            """insert into scheduled_messages
                 (patient_id, scheduled_time, platform, kind, template, payload,
                  idempotency_key, expires_at)
               values ($1, $2, 'sms', 'missed_dose_caregiver',
                       'patient_unreachable_caregiver', '{}', 'test:notice', $3)
               returning id""",
            never,
            soon,
            soon + timedelta(hours=12),
        )
        assert await conn.fetchval(
            "select unreachable_since is not null from patients where id = $1", never
        )

        applied = await migrate_until(conn, tmp_path, RULE)
        assert "20260101013600_patients_not_linked_yet.sql" in applied
        state = "select unreachable_since is not null, linked_at is not null from patients"
        assert tuple(await conn.fetchrow(state + " where id = $1", never)) == (False, False)
        assert tuple(await conn.fetchrow(state + " where id = $1", stopped)) == (True, True)
        assert tuple(await conn.fetchrow(state + " where id = $1", reachable)) == (False, True)
        row = await conn.fetchrow(
            "select status, last_error from scheduled_messages where id = $1", notice
        )
        assert tuple(row) == ("cancelled", "the patient has not linked a channel yet")
