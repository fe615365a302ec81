"""A caregiver saved before the proof rule (migration 20260101011510) keeps its alerts.

A database migrated up to the rule, with a patient of no clinic whose SMS caregiver never wrote
to the service, is migrated to the end: the caregiver counts as proven (migration
20260101011900), so its missed-dose alerts do not stop without anyone being told. A caregiver
saved after the migrations still starts unproven.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from core.migrate import MIGRATIONS_DIR, migrate
from tests.integration.partial_migrations import migrated_until

RULE = "20260101011510"


async def _add_caregiver(conn: asyncpg.Connection, address: str) -> uuid.UUID:
    patient = await conn.fetchval("insert into patients (display_name) values ('Pat') returning id")
    caregiver: uuid.UUID = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Carer', 'sms', $2) returning id",
        patient,
        address,
    )
    return caregiver


async def _proven_at(conn: asyncpg.Connection, caregiver: uuid.UUID) -> object:
    return await conn.fetchval("select proven_at from caregivers where id = $1", caregiver)


async def test_a_caregiver_saved_before_the_rule_keeps_its_alerts(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, RULE) as conn:
        old = await _add_caregiver(conn, "+14155550101")
        assert await _proven_at(conn, old) is None

        applied = await migrate(conn, MIGRATIONS_DIR)
        assert "20260101011900_existing_caregivers_keep_alerts.sql" in applied
        assert await _proven_at(conn, old) is not None
        new = await _add_caregiver(conn, "+14155550102")
        assert await _proven_at(conn, new) is None
