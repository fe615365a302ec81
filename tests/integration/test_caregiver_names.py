"""The database holds caregivers' names to the rule patients' names have (core/person_names.py,
migration 20260101015760): before, only the bot's question held it, and a clinician writing as
the dashboard does (role authenticated through Supabase or PostgREST, which may insert and update
caregivers) stored a name of zero-width spaces, which greeted nobody in the caregiver's alert
("Hi ." with nothing between), or one with an unterminated U+202E, which reversed the text after
it."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

MIGRATION = (
    Path(__file__).parents[2] / "supabase/migrations/20260101015760_caregiver_names_show.sql"
)
INSERT = (
    "insert into caregivers (patient_id, name, channel, address)"
    " values ($1, $2, 'sms', $3) returning id, name"
)


async def _clinic(conn: asyncpg.Connection) -> tuple[asyncpg.Record, asyncpg.Record]:
    org = await factories.create_organization(conn)
    clinician = await factories.create_clinician(conn, org["id"])
    patient = await factories.create_patient(conn, org["id"], contacts={"sms": "+14155550700"})
    return clinician, patient


async def test_a_clinician_writes_caregiver_names_under_the_rule(
    admin_conn: asyncpg.Connection,
) -> None:
    clinician, patient = await _clinic(admin_conn)
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        row = await conn.fetchrow(INSERT, patient["id"], "\u202eRosa", "+14155550701")
        assert row["name"] == "Rosa"
        await conn.execute(
            "update caregivers set name = $2 where id = $1", row["id"], "\u2067Bo\u2069"
        )
        assert await conn.fetchval("select name from caregivers where id = $1", row["id"]) == "Bo"


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u3164", "\u202e", " \u2800 "])
async def test_a_caregiver_name_that_shows_nothing_is_refused(
    admin_conn: asyncpg.Connection, name: str
) -> None:
    clinician, patient = await _clinic(admin_conn)
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            await conn.fetchrow(INSERT, patient["id"], name, "+14155550702")
    assert refused.value.constraint_name == "caregivers_name_visible"
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            row = await conn.fetchrow(INSERT, patient["id"], "Rosa", "+14155550703")
            await conn.execute("update caregivers set name = $2 where id = $1", row["id"], name)
    assert refused.value.constraint_name == "caregivers_name_visible"


async def test_names_stored_before_are_made_to_show_and_the_check_holds_for_all(
    admin_conn: asyncpg.Connection,
) -> None:
    """The migration over rows written before it: a name that shows nothing becomes 'Caregiver'
    (their alerts go on), direction controls are removed, and a name too long to be written again
    (over 50 UTF-16 units, stored before that limit) is left as it was. The check is valid for
    every row, so the service's own updates of an old row (an opt-out) still go through."""
    _, patient = await _clinic(admin_conn)
    await admin_conn.execute(
        """drop trigger caregivers_clean_name on caregivers;
           alter table caregivers drop constraint caregivers_name_visible;
           alter table caregivers drop constraint if exists caregivers_name_template_max;
           -- Its limit as a trigger (migration 20260101015800), off for the rows of before.
           alter table caregivers disable trigger caregivers_name_written"""
    )
    long_name = "Maria " * 9 + "\u202e"
    names = {"invisible": "\u200b\u3164", "scoped": "Ro\u202esa", "long": long_name, "ok": "Eva"}
    ids = {
        key: (await admin_conn.fetchrow(INSERT, patient["id"], name, f"+1415555071{n}"))["id"]
        for n, (key, name) in enumerate(names.items())
    }
    await admin_conn.execute(
        "alter table caregivers add constraint caregivers_name_template_max"
        " check (public.utf16_units(name) <= 50) not valid"
    )

    await admin_conn.execute(MIGRATION.read_text())

    stored = {
        key: await admin_conn.fetchval("select name from caregivers where id = $1", id_)
        for key, id_ in ids.items()
    }
    assert stored == {"invisible": "Caregiver", "scoped": "Rosa", "long": long_name, "ok": "Eva"}
    assert await admin_conn.fetchval(
        "select convalidated from pg_constraint where conname = 'caregivers_name_visible'"
    )
    await admin_conn.execute(
        "update caregivers set opted_out_at = now() where id = $1", ids["invisible"]
    )
