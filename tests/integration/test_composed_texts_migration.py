"""Names and message texts stored decomposed take their composed form (migration
20260101016320): a patient's and a caregiver's name, a medicine's name and dose, an
appointment's place and clinician, the clinic's name. A value stored before its limit that is
still over it composed is left as it is, and the migration still runs.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from core.migrate import MIGRATIONS_DIR, migrate
from tests import factories
from tests.integration.partial_migrations import migrated_until

BEFORE = "20260101016310"
MIGRATION = "20260101016320_names_and_texts_composed.sql"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


async def test_decomposed_texts_stored_before_are_composed(
    pg_admin_url: str, tmp_path: Path
) -> None:
    async with migrated_until(pg_admin_url, tmp_path, BEFORE) as conn:
        org = await factories.create_organization(conn, name=nfd("Clínica Sol"))
        patient = await factories.create_patient(
            conn, org["id"], contacts={}, display_name=nfd("Renée Müller")
        )
        assert patient["display_name"] == nfd("Renée Müller")  # stored as sent, before
        # Stored before the 50-unit limit: 56 units composed, still over it.
        long_name = "A" * 55 + nfd("é")
        await conn.execute("alter table patients disable trigger patients_display_name_written")
        too_long = await factories.create_patient(
            conn, org["id"], contacts={}, display_name=long_name
        )
        await conn.execute("alter table patients enable trigger patients_display_name_written")
        medication, _ = await factories.create_medication(
            conn, patient["id"], name=nfd("Metformina Ñ"), dose=nfd("½ comprimé")
        )
        caregiver = await conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, $2, 'email', 'carer@example.test') returning id",
            patient["id"],
            nfd("Zoë"),
        )
        appointment = await conn.fetchval(
            "insert into appointments"
            " (organization_id, patient_id, starts_at, location, clinician_name)"
            " values ($1, $2, $3, $4, $5) returning id",
            org["id"],
            patient["id"],
            datetime(2027, 1, 4, 10, 0, tzinfo=UTC),
            nfd("Consultorio 3, Peñalver"),
            nfd("Dra. Muñoz"),
        )

        applied = await migrate(conn, MIGRATIONS_DIR)

        assert MIGRATION in applied
        values = await conn.fetchrow(
            "select (select name from organizations where id = $1) as clinic,"
            " (select display_name from patients where id = $2) as patient,"
            " (select display_name from patients where id = $3) as too_long,"
            " (select row(name, dose)::text from medications where id = $4) as medicine,"
            " (select name from caregivers where id = $5) as caregiver,"
            " (select row(location, clinician_name)::text from appointments where id = $6)"
            "  as appointment",
            org["id"],
            patient["id"],
            too_long["id"],
            medication["id"],
            caregiver,
            appointment,
        )
        assert dict(values) == {
            "clinic": "Clínica Sol",
            "patient": "Renée Müller",
            "too_long": long_name,
            "medicine": '("Metformina Ñ","½ comprimé")',
            "caregiver": "Zoë",
            "appointment": '("Consultorio 3, Peñalver","Dra. Muñoz")',
        }
        for text in ("Clínica Sol", "Renée Müller", "Zoë", "Dra. Muñoz"):
            assert unicodedata.is_normalized("NFC", text)
        # Every writer stores composed from now on.
        again = await factories.create_patient(
            conn, org["id"], contacts={}, display_name=nfd("Inés")
        )
        assert again["display_name"] == "Inés"
