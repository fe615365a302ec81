"""The API roles hold the same privileges on Supabase as on a plain PostgreSQL.

Supabase gives the role that runs migrations default privileges in schema public: every table,
sequence and function it creates is granted ALL to ``anon`` and ``authenticated``, the roles
PostgREST runs requests as. The suite's server has no such defaults, so the migrations' grants
were only ever checked without them: on Supabase, anyone with the project's public key could
call SECURITY DEFINER functions such as ``emit_webhook_event`` (an event signed with a clinic's
secret, raised by nobody), and a clinician could overwrite a patient's own choice in
``patient_preferences`` or read the sealed secrets of provider accounts and webhook
subscriptions. Migration 20260101011530 revokes the defaults and what they granted.

Here a database gets Supabase's default privileges before the migrations run; afterwards
``anon`` and ``authenticated`` must hold exactly what they hold in the suite's template.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from core.migrate import migrate
from tests import factories
from tests.database_clones import execute_on
from tests.integration.clinician import as_clinician

# Supabase's defaults for the migrating role (its init scripts, as `supabase db dump` shows them).
SUPABASE_DEFAULTS = [
    f"alter default privileges in schema public grant all on {kind} to {roles}"
    for kind in ("tables", "sequences", "functions")
    for roles in ("anon, authenticated, service_role",)
]

# Every privilege of each role on the objects of schema public (functions by signature).
PRIVILEGES = """
select 'table' as kind, c.relname as name, p.privilege
  from pg_class c
 cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                         'TRIGGER']) as p(privilege)
 where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'm', 'p')
   and has_table_privilege($1, c.oid, p.privilege)
union all
select 'column', c.relname || '.' || a.attname, p.privilege
  from pg_class c
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
 cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) as p(privilege)
 where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'm', 'p')
   and has_column_privilege($1, c.oid, a.attnum, p.privilege)
union all
select 'sequence', c.relname, p.privilege
  from pg_class c
 cross join unnest(array['USAGE', 'SELECT', 'UPDATE']) as p(privilege)
 where c.relnamespace = 'public'::regnamespace and c.relkind = 'S'
   and has_sequence_privilege($1, c.oid, p.privilege)
union all
select 'function', f.oid::regprocedure::text, 'EXECUTE'
  from pg_proc f
 where f.pronamespace = 'public'::regnamespace and has_function_privilege($1, f.oid, 'EXECUTE')
"""


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


@pytest.fixture(scope="module")
async def supabase_like_template(pg_admin_url: str) -> AsyncIterator[str]:
    """A database migrated after Supabase's default privileges were set, once for this file (the
    migrations take 10-30 s on the CI host); its name. Each test gets a clone of it."""
    name = f"medremind_supabase_{uuid.uuid4().hex[:12]}"
    await execute_on(pg_admin_url, f'create database "{name}"')
    try:
        conn = await asyncpg.connect(_with_database(pg_admin_url, name))
        try:
            for statement in SUPABASE_DEFAULTS:
                await conn.execute(statement)
            await migrate(conn)
        finally:
            await conn.close()
        yield name
    finally:
        await execute_on(pg_admin_url, f'drop database if exists "{name}" with (force)')


@pytest.fixture
async def supabase_like(
    pg_admin_url: str, supabase_like_template: str
) -> AsyncIterator[asyncpg.Connection]:
    """A fresh clone of the database migrated after Supabase's default privileges were set (its
    privileges and default privileges are the clone's too); a superuser connection to it."""
    name = f"medremind_supabase_{uuid.uuid4().hex[:12]}"
    await execute_on(pg_admin_url, f'create database "{name}" template "{supabase_like_template}"')
    conn = await asyncpg.connect(_with_database(pg_admin_url, name))
    try:
        yield conn
    finally:
        await conn.close()
        await execute_on(pg_admin_url, f'drop database if exists "{name}" with (force)')


async def _privileges(conn: asyncpg.Connection, role: str) -> set[tuple[str, str, str]]:
    return {(r["kind"], r["name"], r["privilege"]) for r in await conn.fetch(PRIVILEGES, role)}


@pytest.mark.parametrize("role", ["anon", "authenticated"])
async def test_the_api_roles_hold_the_same_privileges_as_without_supabases_defaults(
    supabase_like: asyncpg.Connection, admin_conn: asyncpg.Connection, role: str
) -> None:
    on_supabase = await _privileges(supabase_like, role)
    intended = await _privileges(admin_conn, role)
    assert sorted(on_supabase - intended) == []
    assert sorted(intended - on_supabase) == []


async def test_grants_of_migrations_older_than_the_revocation_stand(
    admin_conn: asyncpg.Connection,
) -> None:
    """20260101011530 takes from the API roles what it does not list; a migration numbered
    before it that grants the roles something must grant it again after it."""
    for function in ("medicine_labels(uuid[])",):
        assert await admin_conn.fetchval(
            "select has_function_privilege('authenticated', $1::regprocedure, 'execute')",
            f"public.{function}",
        ), function


async def test_anon_cannot_raise_a_webhook_event_nor_a_clinician_change_a_patients_choice(
    supabase_like: asyncpg.Connection,
) -> None:
    """The two sharpest consequences, as PostgREST would run them."""
    conn = supabase_like
    org = await factories.create_organization(conn)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():
            await conn.execute("set local role anon")
            await conn.execute(
                "select public.emit_webhook_event($1, 'patient.opted_out', '{}'::jsonb)",
                org["id"],
            )
    clinician = await factories.create_clinician(conn, org["id"])
    patient = await factories.create_patient(conn, org["id"])
    await conn.execute(
        "insert into patient_preferences (patient_id, category, patient_choice)"
        " values ($1, 'appointments', 'out')",
        patient["id"],
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(conn, clinician["id"]) as clinic:
            await clinic.execute("update patient_preferences set patient_choice = 'in'")
    choice = await conn.fetchval("select patient_choice from patient_preferences")
    assert choice == "out"
