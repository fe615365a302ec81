"""Zone names stored in the wrong case (the dashboard accepted 'europe/madrid' before it stored
canonical names) left a patient without reminders; migration 20260101007300 repairs them."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from core.db import Database
from core.migrate import MIGRATIONS_DIR
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories
from tests.planner.conftest import messages

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
REPAIR = MIGRATIONS_DIR / "20260101007300_canonical_timezone_names.sql"


async def test_miscased_zones_are_repaired_and_the_patient_gets_reminders(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    org = await factories.create_organization(admin_conn, timezone="america/mexico_city")
    patient = await factories.create_patient(admin_conn, org["id"], timezone="europe/madrid")
    unknown = await factories.create_patient(admin_conn, org["id"], timezone="Nowhere/Land")
    await factories.create_medication(admin_conn, patient["id"])
    assert db.pool is not None

    # As stored, the planner cannot load the zone: nothing is planned for this patient.
    stats = await run_planner_tick(db.pool, NOW, settings)
    assert stats.errors >= 1
    assert await messages(admin_conn, patient["id"], "medication_reminder") == []

    async with admin_conn.transaction():
        await admin_conn.execute(REPAIR.read_text())

    zones = {
        r["id"]: r["timezone"] for r in await admin_conn.fetch("select id, timezone from patients")
    }
    assert zones[patient["id"]] == "Europe/Madrid"
    assert zones[unknown["id"]] == "Nowhere/Land"  # matches no zone: left for a person
    assert (
        await admin_conn.fetchval("select timezone from organizations where id = $1", org["id"])
        == "America/Mexico_City"
    )

    # The rewrite marked the schedule for re-planning: 08:00 and 20:00 in Madrid (UTC+1 in March).
    await run_planner_tick(db.pool, NOW, settings)
    times = [
        r["scheduled_time"]
        for r in await messages(admin_conn, patient["id"], "medication_reminder")
    ]
    assert times[:2] == [
        datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 19, 0, tzinfo=UTC),
    ]
