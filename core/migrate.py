"""Apply ``supabase/migrations/*.sql`` in order, once each, recorded in ``medremind_migrations``.

Each file runs in its own transaction. An advisory lock makes two ``medremind migrate`` processes
at once safe: the second waits, then finds nothing left to do. A file that changed after it was
applied is reported, never silently re-run.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "supabase" / "migrations"
# Any fixed 64-bit number; shared by every migrate process of this service.
ADVISORY_LOCK_KEY = 7_240_310_554_201

_CREATE_TABLE = """
create table if not exists public.medremind_migrations (
  version text primary key,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now()
);
alter table public.medremind_migrations enable row level security;
"""


# What a superuser runs once where the migrating login may not create or grant roles (a managed
# PostgreSQL's owner login; Heroku Postgres's). The migrations then find the roles made.
_ROLES_BY_A_SUPERUSER = (
    "create role anon nologin noinherit; create role authenticated nologin noinherit;"
    " create role service_role nologin noinherit bypassrls;"
    " create role medremind_app nologin noinherit;"
    " grant medremind_app to {login} with admin option;"
)


def _remedy(exc: asyncpg.PostgresError, conn: asyncpg.Connection) -> str:
    """For a refused role (the login lacks CREATEROLE, or may not grant ``medremind_app``):
    what the service needs and how to give it. PostgreSQL's own words named neither."""
    if not isinstance(exc, asyncpg.InsufficientPrivilegeError) or "role" not in str(exc):
        return ""
    login = conn.get_settings().session_authorization or "<the login of DATABASE_URL>"
    return (
        "\nThe service's row-level security needs the roles anon, authenticated,"
        " service_role and medremind_app, and its processes SET ROLE medremind_app. Migrate"
        " with a login that has CREATEROLE, or have a superuser run once (each create for a"
        " role not there yet): "
        + _ROLES_BY_A_SUPERUSER.format(login=login)
        + " (docs/operations.md, 'A database login without CREATEROLE')"
    )


class MigrationError(Exception):
    """A migration failed or an applied file was changed afterwards."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file: ``<version>_<name>.sql`` (the Supabase CLI convention)."""

    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit() or not name:
            raise MigrationError(f"{path.name}: expected <timestamp>_<name>.sql")
        migrations.append(Migration(version, name, path))
    return migrations


async def applied_versions(conn: asyncpg.Connection) -> dict[str, str]:
    """``{version: checksum}`` of applied migrations; empty when none were ever applied."""
    exists = await conn.fetchval("select to_regclass('public.medremind_migrations') is not null")
    if not exists:
        return {}
    rows = await conn.fetch("select version, checksum from public.medremind_migrations")
    return {r["version"]: r["checksum"] for r in rows}


async def pending(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migrations not yet applied (raises if an applied file has changed)."""
    done = await applied_versions(conn)
    result = []
    for migration in discover(directory):
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                raise MigrationError(
                    f"{migration.path.name} changed after it was applied; "
                    "add a new migration instead of editing an applied one"
                )
            continue
        result.append(migration)
    return result


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending migration; return the names applied (empty when up to date)."""
    await conn.execute("select pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        applied: list[str] = []
        for migration in await pending(conn, directory):
            logger.info("applying migration", extra={"migration": migration.path.name})
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "insert into public.medremind_migrations (version, name, checksum)"
                        " values ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(
                    f"{migration.path.name} failed: {exc}{_remedy(exc, conn)}"
                ) from exc
            applied.append(migration.path.name)
        return applied
    finally:
        await conn.execute("select pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
