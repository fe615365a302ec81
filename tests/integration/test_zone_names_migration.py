"""Zones stored under old IANA names before core/zone_names.py take their current names
(migration 20260101016310), in every column that holds a zone.

A database migrated up to just before it holds, in each of those columns (a clinic's, a
patient's zone and home zone, a schedule's, a caregiver's, a caregiver link's), old names of the
IANA database the server knows and a few current ones: after the migration each is the name
``core.zone_names.canonical_zone`` gives it (the API's and the dashboard's one table), and a
place IANA only links to another (Europe/Amsterdam) is still itself. Every old name is in the
clinics', patients' and schedules' columns, so each row of the migration's table is checked
against canonical_zone; the caregivers' and links' columns hold one name of each kind
(``CHECKED_SAMPLE``): their CHECK constraint lists the server's zone files on every write of a
row (public.is_iana_timezone, ~15 ms): every name there, inserted then rewritten in both
tables, cost about 9 of the test's 12.4 CPU-s of PostgreSQL, to try again the same statement
per column the other columns try with every name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.migrate import MIGRATIONS_DIR, migrate
from core.zone_names import canonical_zone
from tests.integration.partial_migrations import migrated_until
from tests.unit.test_zone_names import table

BEFORE = "20260101016300"
MIGRATION = "20260101016310_zone_names_current.sql"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
# Old names of each kind (a region, a country, a rule, UTC's, a 2022 rename) and current names
# that must stay: all the caregivers' and links' columns hold (see the docstring).
CHECKED_SAMPLE = (
    "US/Eastern",
    "Asia/Calcutta",
    "Canada/Newfoundland",
    "Japan",
    "EST5EDT",
    "Etc/UTC",
    "Zulu",
    "Europe/Kiev",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "UTC",
)
# (table, column) of every zone the database stores.
COLUMNS = (
    ("organizations", "timezone"),
    ("patients", "timezone"),
    ("patients", "home_timezone"),
    ("reminder_schedules", "timezone"),
    ("caregivers", "timezone"),
    ("caregiver_links", "timezone"),
)


async def test_old_zone_names_take_their_current_names_everywhere(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        known = {r[0] for r in await conn.fetch("select name from pg_timezone_names")}
        # Every old name, and current names that must stay (each row costs the columns'
        # is_iana_timezone checks: all 597 names took 15 s).
        old = {name for name, current in table().items() if name != current}
        names = sorted((old | {"Europe/Amsterdam", "Europe/Madrid", "UTC"}) & known)
        assert {"US/Eastern", "Asia/Calcutta", "Europe/Amsterdam"} <= set(names)
        # One row per name in each table, written set-wise (a row at a time took 40 s).
        org_zones = await conn.fetch(
            "insert into organizations (name, timezone)"
            " select 'Clinic ' || z, z from unnest($1::text[]) z returning id, timezone",
            names,
        )
        patients = await conn.fetch(
            "insert into patients"
            " (organization_id, display_name, timezone, home_timezone, consent_at, channel_order)"
            " select id, 'Pat', timezone, timezone, $1, '{email}' from organizations"
            " returning id, timezone",
            NOW,
        )
        schedules = await conn.fetch(
            "with m as (insert into medications (patient_id, name, dose)"
            "  select id, 'Med', '1 mg' from patients returning id, patient_id)"
            " insert into reminder_schedules"
            " (medication_id, patient_id, times_of_day, start_date, timezone)"
            " select m.id, m.patient_id, '{08:00}', '2026-01-01', p.timezone"
            " from m join patients p on p.id = m.patient_id returning id, timezone"
        )
        sample = sorted(set(CHECKED_SAMPLE) & known)
        assert len(sample) >= len(CHECKED_SAMPLE) - 1  # Europe/Kiev may be missing, no more
        caregivers = await conn.fetch(
            "insert into caregivers (patient_id, name, channel, address, timezone)"
            " select id, 'Carer', 'email', 'carer@example.test', timezone from patients"
            " where timezone = any($1::text[]) returning id, timezone",
            sample,
        )
        links = await conn.fetch(
            # Made at NOW, not at the machine's now (which may be past the link's end).
            "insert into caregiver_links (patient_id, token_hash, name, alert_delay_minutes,"
            " timezone, created_at, expires_at)"
            " select id, encode(sha256(id::text::bytea), 'hex'), 'Carer', 30, timezone, $1, $2"
            " from patients where timezone = any($3::text[]) returning id, timezone",
            NOW,
            NOW + timedelta(days=7),
            sample,
        )
        written = (org_zones, patients, patients, schedules, caregivers, links)
        rows = {
            f"{table_name}.{column}": [(r["timezone"], r["id"]) for r in found]
            for (table_name, column), found in zip(COLUMNS, written, strict=True)
        }
        counts = [len(found) for found in written]
        assert counts == [len(names)] * 4 + [len(sample)] * 2, counts

        applied = await migrate(conn, MIGRATIONS_DIR)

        assert MIGRATION in applied
        for table_name, column in COLUMNS:
            stored = {
                r["id"]: r["zone"]
                for r in await conn.fetch(f"select id, {column} as zone from {table_name}")
            }
            for name, row_id in rows[f"{table_name}.{column}"]:
                expected = canonical_zone(name) if canonical_zone(name) in known else name
                assert stored[row_id] == expected, (table_name, column, name)
        by_name = dict(rows["patients.timezone"])
        zones = await conn.fetch("select id, timezone from patients")
        current = {r["id"]: r["timezone"] for r in zones}
        assert current[by_name["US/Eastern"]] == "America/New_York"
        assert current[by_name["Asia/Calcutta"]] == "Asia/Kolkata"
        assert current[by_name["Europe/Amsterdam"]] == "Europe/Amsterdam"
