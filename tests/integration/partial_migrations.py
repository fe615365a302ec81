"""A database of its own migrated up to a given migration, for tests of what a later one does
to the rows it finds (its backfill)."""

from __future__ import annotations

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


@asynccontextmanager
async def migrated_until(
    pg_admin_url: str, tmp_path: Path, version: str
) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a new database migrated up to ``version`` (included); dropped after."""
    until = _migrations_until(tmp_path / "migrations", version)
    name = f"medremind_partial_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_admin_url)
    await admin.execute(f'create database "{name}"')
    try:
        conn = await asyncpg.connect(_swap_db(pg_admin_url, name))
        try:
            await migrate(conn, until)
            yield conn
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()
