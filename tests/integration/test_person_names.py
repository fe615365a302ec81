"""The database holds a person's name to the rule core/person_names.py states (migration
20260101015500): every writer of ``patients.display_name`` meets it, the dashboard's New patient
form included, which has no copy of the rule."""

from __future__ import annotations

import asyncpg
import pytest

from core.combining_marks import COMBINING_MARKS
from core.person_names import BIDI_SCOPES, INVISIBLE, without_direction_scopes
from tests import factories


def _points(ranges: tuple[tuple[int, int], ...]) -> set[int]:
    return {cp for lo, hi in ranges for cp in range(lo, hi + 1)}


async def test_the_database_and_python_agree_on_every_code_point(
    admin_conn: asyncpg.Connection,
) -> None:
    # chr() of every code point but NUL (no text holds it) and the surrogates (no character).
    points = "select cp from generate_series(1, 1114111) cp where cp not between 55296 and 57343"
    invisible = {
        r[0]
        for r in await admin_conn.fetch(
            f"select cp from ({points}) c where not public.person_name_visible(chr(cp))"
        )
    }
    # Alone, a combining mark shows nothing either (migration 20260101018350).
    assert invisible == (_points(INVISIBLE) | _points(COMBINING_MARKS)) - {0}
    cleaned = {
        r[0]
        for r in await admin_conn.fetch(
            f"select cp from ({points}) c where public.person_name_clean(chr(cp)) = ''"
        )
    }
    assert cleaned == _points(BIDI_SCOPES)


async def test_the_database_and_python_compose_every_code_point_alike(
    admin_conn: asyncpg.Connection,
) -> None:
    # Every code point the database's clean changes, and to what: Python's without_direction_
    # scopes gives the same (NFC's singletons, such as U+212B ANGSTROM SIGN to U+00C5).
    points = "select cp from generate_series(1, 1114111) cp where cp not between 55296 and 57343"
    changed = {
        r[0]: r[1]
        for r in await admin_conn.fetch(
            f"select cp, public.person_name_clean(chr(cp)) from ({points}) c"
            " where public.person_name_clean(chr(cp)) <> chr(cp)"
        )
    }
    assert changed[0x212B] == "\u00c5"
    in_python = {
        cp: without_direction_scopes(chr(cp))
        for cp in range(1, 0x110000)
        if not 0xD800 <= cp <= 0xDFFF and without_direction_scopes(chr(cp)) != chr(cp)
    }
    assert changed == in_python


async def test_a_decomposed_name_is_stored_composed(admin_conn: asyncpg.Connection) -> None:
    patient = await factories.create_patient(admin_conn, display_name="Rene\u0301e Mu\u0308ller")
    assert patient["display_name"] == "Ren\u00e9e M\u00fcller"


async def test_a_stored_name_loses_its_direction_scopes(admin_conn: asyncpg.Connection) -> None:
    patient = await factories.create_patient(admin_conn, display_name="Ana\u202e")
    assert patient["display_name"] == "Ana"
    await admin_conn.execute(
        "update patients set display_name = $2 where id = $1", patient["id"], "\u2067Bo\u2069"
    )
    name = await admin_conn.fetchval(
        "select display_name from patients where id = $1", patient["id"]
    )
    assert name == "Bo"


@pytest.mark.parametrize("name", ["\u200b\u200b", "\u3164", "\u202e", " \u2800 ", "\u0301\u0301"])
async def test_a_name_that_shows_nothing_is_refused(
    admin_conn: asyncpg.Connection, name: str
) -> None:
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await factories.create_patient(admin_conn, display_name=name)
    assert refused.value.constraint_name == "patients_display_name_visible"


async def test_an_external_id_that_shows_nothing_is_refused_for_every_writer(
    admin_conn: asyncpg.Connection,
) -> None:
    """Migration 20260101018800: the API refused it first; the dashboard's New patient stored
    one of a zero-width space alone (blank on the page, typeable nowhere)."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"])
    await factories.create_medication(admin_conn, patient["id"])
    writes = {
        "patients": "update patients set external_id = $1 where id = $2",
        "appointments": "insert into appointments (organization_id, patient_id, starts_at,"
        " external_id) select organization_id, id, now() + interval '1 day', $1"
        " from patients where id = $2",
        "medications": "update medications set external_id = $1 where patient_id = $2",
    }
    for table, sql in writes.items():
        with pytest.raises(asyncpg.CheckViolationError) as refused:
            await admin_conn.execute(sql, "\u200b\u2060", patient["id"])
        assert refused.value.constraint_name == f"{table}_external_id_visible"
        await admin_conn.execute(sql, "MRN-\u200b7", patient["id"])  # it shows: kept as sent
    # A row stored before keeps its id, and its other columns can still change.
    await admin_conn.execute("alter table patients disable trigger patients_external_id_written")
    await admin_conn.execute(writes["patients"], "\u200b", patient["id"])
    await admin_conn.execute("alter table patients enable trigger patients_external_id_written")
    await admin_conn.execute(
        "update patients set locale = 'es', external_id = external_id where id = $1",
        patient["id"],
    )
