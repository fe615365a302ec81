"""A database of its own migrated up to a given migration, for tests of what a later one does
to the rows it finds (its backfill)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.migrate import discover, migrate


def _swap_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _migrations_until(directory: Path, version: str) -> Path:
    """``directory`` filled with the migrations up to ``version`` (included)."""
    directory.mkdir()
    for m in discover():
        if m.version <= version:
            shutil.copy(m.path, directory / m.path.name)
    return directory


async def migrate_until(conn: asyncpg.Connection, tmp_path: Path, version: str) -> list[str]:
    """Apply the migrations after the database's up to ``version`` (included); their names."""
    return await migrate(conn, _migrations_until(tmp_path / f"until-{version}", version))


# Databases migrated up to a version, kept for this test process (on its server) and cloned for
# each test: migrating a new database from the first migration took 10-70 s a test on the CI host.
# One for a later version is made from a clone of the nearest earlier one, migrated on; on a
# TEST_DATABASE_URL server a later session of the same xdist worker drops and makes them again.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "master")
_templates: dict[tuple[str, str], str] = {}  # (server URL, version) -> database name


async def _template_until(
    admin: asyncpg.Connection, pg_admin_url: str, tmp_path: Path, version: str
) -> str:
    """The name of this process's database migrated up to ``version``, made when missing."""
    known = _templates.get((pg_admin_url, version))
    if known is not None:
        return known
    name = f"medremind_partial_{_WORKER}_{version}"
    earlier = [v for (url, v) in _templates if url == pg_admin_url and v < version]
    await admin.execute(f'drop database if exists "{name}" with (force)')
    if earlier:
        await admin.execute(
            f'create database "{name}" template "{_templates[(pg_admin_url, max(earlier))]}"'
        )
    else:
        await admin.execute(f'create database "{name}"')
    conn = await asyncpg.connect(_swap_db(pg_admin_url, name))
    try:
        await migrate(conn, _migrations_until(tmp_path / f"template-{version}", version))
    finally:
        await conn.close()
    _templates[(pg_admin_url, version)] = name
    return name


@asynccontextmanager
async def migrated_until(
    pg_admin_url: str, tmp_path: Path, version: str
) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a new database migrated up to ``version`` (included); dropped after."""
    name = f"medremind_partial_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_admin_url)
    try:
        template = await _template_until(admin, pg_admin_url, tmp_path, version)
        await admin.execute(f'create database "{name}" template "{template}"')
        conn = await asyncpg.connect(_swap_db(pg_admin_url, name))
        try:
            yield conn
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()
