"""The database holds every writer of a text filled into messages to the rule of names
(migration 20260101015900): direction controls with a scope are dropped from medicines' names
and doses, appointments' and slot offers' places and clinicians, and the clinic's name, the
dashboard's clinician (role authenticated) included. Stored medicines are cleaned by the
migration."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from tests import factories
from tests.integration.clinician import as_clinician
from tests.integration.partial_migrations import migrate_until, migrated_until

BEFORE = "20260101015800"
THIS = "20260101015900"


async def test_every_writer_stores_them_without_direction_scopes(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn, name="Sun\u202e Clinic")
    assert org["name"] == "Sun Clinic"
    clinician = await factories.create_clinician(admin_conn, org["id"])
    patient = await factories.create_patient(admin_conn, org["id"])
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        medicine = await conn.fetchrow(
            "insert into medications (patient_id, name, dose) values ($1, $2, $3)"
            " returning name, dose",
            patient["id"],
            "Ibu\u202eprofen",
            "\u2066200 mg\u2069",
        )
        appointment = await conn.fetchrow(
            "insert into appointments (organization_id, patient_id, starts_at, location,"
            " clinician_name) values ($1, $2, now() + interval '2 days', $3, $4)"
            " returning location, clinician_name",
            org["id"],
            patient["id"],
            "Room\u202d 3",
            "Dr\u202b Weiss",
        )
    assert tuple(medicine) == ("Ibuprofen", "200 mg")
    assert tuple(appointment) == ("Room 3", "Dr Weiss")
    offer = await admin_conn.fetchrow(
        "insert into slot_offers (organization_id, starts_at, duration_minutes, location,"
        " clinician_name) values ($1, now() + interval '1 day', 30, $2, $3)"
        " returning location, clinician_name",
        org["id"],
        "\u2068Room 4",
        "Dr Ruiz\u202a",
    )
    assert tuple(offer) == ("Room 4", "Dr Ruiz")


async def test_the_migration_cleans_stored_medicines(pg_admin_url: str, tmp_path: Path) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        patient = await factories.create_patient(conn)
        await factories.create_medication(
            conn, patient["id"], name="Ibu\u202eprofen", dose="1\u2067"
        )
        await migrate_until(conn, tmp_path, THIS)
        row = await conn.fetchrow("select name, dose from medications")
        assert tuple(row) == ("Ibuprofen", "1")
