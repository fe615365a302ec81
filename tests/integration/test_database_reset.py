"""The suite's own databases (tests.database_clones, tests.database_reset): a finished test's
database is handed to the next test in the template's state, under a new name, and one whose
schema or statistics a test changed is dropped, never handed on."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import pytest

from tests import factories
from tests.database_clones import DatabaseClones, with_database

TABLES = """
select format('%I.%I', n.nspname, c.relname)
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'r' and n.nspname in ('public', 'auth')
 order by 1
"""
SEQUENCES = "select sequencename, last_value from pg_sequences order by 1"


@pytest.fixture
def clones(pg_admin_url: str, template_database: str) -> Iterator[DatabaseClones]:
    """A maker of databases of this test's own, beside the worker's (closed outside the event
    loop, as the worker's is)."""
    made = DatabaseClones(pg_admin_url, template_database)
    try:
        yield made
    finally:
        made.close()


async def _state(admin_url: str, name: str) -> tuple[dict[str, int], list[asyncpg.Record]]:
    """Every user table's row count and every sequence's value."""
    conn = await asyncpg.connect(with_database(admin_url, name))
    try:
        counts = {
            t: await conn.fetchval(f"select count(*) from {t}") for (t,) in await conn.fetch(TABLES)
        }
        return counts, await conn.fetch(SEQUENCES)
    finally:
        await conn.close()


async def _oid(admin_url: str, name: str) -> int | None:
    conn = await asyncpg.connect(admin_url)
    try:
        oid: int | None = await conn.fetchval(
            "select oid from pg_database where datname = $1", name
        )
        return oid
    finally:
        await conn.close()


async def _exists(admin_url: str, name: str) -> bool:
    conn = await asyncpg.connect(admin_url)
    try:
        found: bool = await conn.fetchval(
            "select exists (select from pg_database where datname = $1)", name
        )
        return found
    finally:
        await conn.close()


async def test_a_database_a_test_wrote_to_is_handed_on_as_new(
    pg_admin_url: str, template_database: str, clones: DatabaseClones
) -> None:
    template = await _state(pg_admin_url, template_database)
    first = await clones.take()
    conn = await asyncpg.connect(with_database(pg_admin_url, first))
    try:
        org = await factories.create_organization(conn)
        patient = await factories.create_patient(conn, org["id"], contacts={"sms": "+14155550161"})
        await factories.create_medication(conn, patient["id"])
        await conn.execute("select nextval('audit_log_id_seq')")
        await conn.execute("delete from sign_in_client_salt")
        assert await _state(pg_admin_url, first) != template
    finally:
        await conn.close()
    oid = await _oid(pg_admin_url, first)
    clones.give_back(first)
    await clones.quiet()

    second = await clones.take()
    assert second != first and not await _exists(pg_admin_url, first)
    assert await _oid(pg_admin_url, second) == oid  # the same database, put back
    assert await _state(pg_admin_url, second) == template
    clones.give_back(second)


@pytest.mark.parametrize(
    "change",
    [
        "create table left_behind (id int)",
        "alter table patients add column left_behind int",
        "analyze patients",
        "comment on table patients is 'left behind'",
        "grant select on patients to public",
    ],
)
async def test_a_database_whose_schema_or_statistics_changed_is_dropped(
    pg_admin_url: str, clones: DatabaseClones, change: str
) -> None:
    first = await clones.take()
    conn = await asyncpg.connect(with_database(pg_admin_url, first))
    try:
        await conn.execute(change)
    finally:
        await conn.close()
    clones.give_back(first)
    await clones.quiet()

    second = await clones.take()
    assert not await _exists(pg_admin_url, first)
    conn = await asyncpg.connect(with_database(pg_admin_url, second))
    try:
        assert not await conn.fetchval("select to_regclass('left_behind') is not null")
        assert not await conn.fetchval(
            "select exists (select from pg_statistic where starelid = 'patients'::regclass)"
        )
    finally:
        await conn.close()
    clones.give_back(second)


async def test_a_session_left_on_the_database_is_ended(
    pg_admin_url: str, clones: DatabaseClones
) -> None:
    first = await clones.take()
    left = await asyncpg.connect(with_database(pg_admin_url, first))
    clones.give_back(first)
    await clones.quiet()
    second = await clones.take()
    assert left.is_closed() or not await _exists(pg_admin_url, first)
    with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
        await left.fetchval("select 1")
    clones.give_back(second)
