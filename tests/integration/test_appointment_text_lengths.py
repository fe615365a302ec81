"""An appointment's place and clinician name: at most 200 characters, whoever writes the row."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from tests import factories


async def _appointment(conn: asyncpg.Connection, location: str, clinician: str) -> None:
    org = await factories.create_organization(conn)
    patient = await factories.create_patient(conn, org["id"])
    await conn.execute(
        "insert into appointments (organization_id, patient_id, starts_at, location,"
        " clinician_name) values ($1, $2, $3, $4, $5)",
        org["id"],
        patient["id"],
        datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
        location,
        clinician,
    )


async def test_place_and_clinician_up_to_200_characters(admin_conn: asyncpg.Connection) -> None:
    await _appointment(admin_conn, "L" * 200, "C" * 200)
    for location, clinician in (("L" * 201, "Dr Ruiz"), ("Room 4", "C" * 201)):
        with pytest.raises(asyncpg.CheckViolationError):
            await _appointment(admin_conn, location, clinician)
