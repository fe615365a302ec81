"""Template values at their maxima, whoever writes: every column a clinician template's variable is
filled from (``core.template_vocabulary.STORED_AT``) takes a value at the variable's maximum, in
UTF-16 units (an emoji counts two, as SMS and Telegram count it), and refuses one unit more. The
worst-case length check at template save assumes exactly these maxima."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import pytest

from core.template_measure import utf16_units
from core.template_vocabulary import STORED_AT, max_units
from tests import factories


async def _rows(conn: asyncpg.Connection) -> dict[str, UUID]:
    """One row of each table in STORED_AT."""
    org = await factories.create_organization(conn)
    patient = await factories.create_patient(conn, org["id"])
    medication, _ = await factories.create_medication(conn, patient["id"])
    caregiver = await conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Eva', 'sms', '+14155550999') returning id",
        patient["id"],
    )
    appointment = await conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        org["id"],
        patient["id"],
        datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
    )
    return {
        "organizations": org["id"],
        "patients": patient["id"],
        "medications": medication["id"],
        "caregivers": caregiver,
        "appointments": appointment,
    }


def _at_most(units: int) -> str:
    """A value of exactly ``units`` UTF-16 units, mostly emoji (two units each)."""
    value = "\N{GRINNING FACE}" * (units // 2) + "a" * (units % 2)
    assert utf16_units(value) == units
    return value


@pytest.mark.parametrize(
    ("variable", "table", "column"),
    [(v, t, c) for v, places in STORED_AT.items() for t, c in places],
)
async def test_each_column_holds_its_variable_to_the_maximum(
    admin_conn: asyncpg.Connection, variable: str, table: str, column: str
) -> None:
    rows = await _rows(admin_conn)
    limit = max_units(variable)
    update = f"update {table} set {column} = $1 where id = $2"  # names from STORED_AT only
    await admin_conn.execute(update, _at_most(limit), rows[table])
    await admin_conn.execute(update, "x" * limit, rows[table])
    for too_long in (_at_most(limit) + "a", "x" * (limit + 1), "x" * 200):
        with pytest.raises(asyncpg.CheckViolationError):
            await admin_conn.execute(update, too_long, rows[table])


async def test_the_database_counts_utf16_units_as_python_does(
    admin_conn: asyncpg.Connection,
) -> None:
    for text in ("", "Ana", "Łukasz Nowak", "\N{GRINNING FACE}x", "日本語", "a\U0010ffff"):
        assert await admin_conn.fetchval("select public.utf16_units($1)", text) == utf16_units(text)
