"""Caregivers stored "Same as mine" (null zone) before migration 20260101016800 get the patient's
home zone (home_timezone, else the zone they are in), kept when the patient travels; a chosen
zone is untouched, and a patient's zone no database knows leaves the row null."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg

from core.migrate import MIGRATIONS_DIR, migrate
from tests.integration.partial_migrations import migrated_until

BEFORE = "20260101016700"


async def _caregiver(
    conn: asyncpg.Connection, zone: str, home: str | None, own: str | None
) -> uuid.UUID:
    patient = await conn.fetchval(
        "insert into patients (display_name, channel_order, consent_at, timezone, home_timezone)"
        " values ('Pat', '{sms}', now(), $1, $2) returning id",
        zone,
        home,
    )
    caregiver: uuid.UUID = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address, timezone)"
        " values ($1, 'Carer', 'sms', '+14155550199', $2) returning id",
        patient,
        own,
    )
    return caregiver


async def test_same_as_mine_rows_get_the_patients_home_zone(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        travelling = await _caregiver(conn, "Asia/Tokyo", "America/New_York", None)
        never_pinned = await _caregiver(conn, "Europe/Madrid", None, None)
        chosen = await _caregiver(conn, "Asia/Tokyo", "America/New_York", "Europe/Lisbon")
        unknown = await _caregiver(conn, "Etc/Unknown", None, None)

        applied = await migrate(conn, MIGRATIONS_DIR)
        assert "20260101016800_caregiver_same_zone_kept.sql" in applied
        zone = "select timezone from caregivers where id = $1"
        assert await conn.fetchval(zone, travelling) == "America/New_York"
        assert await conn.fetchval(zone, never_pinned) == "Europe/Madrid"
        assert await conn.fetchval(zone, chosen) == "Europe/Lisbon"
        assert await conn.fetchval(zone, unknown) is None
