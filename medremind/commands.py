"""Small one-shot commands: ``migrate``, ``apikey create`` and ``rotate-credentials``."""

from __future__ import annotations

import logging
import sys

from core.db import Database
from core.migrate import MigrationError, migrate
from core.settings import Settings

logger = logging.getLogger(__name__)


async def run_migrate(settings: Settings) -> int:
    """Apply pending migrations as the login role (DDL), then report; exit code."""
    database = Database(settings)
    try:
        conn = await database.connect(as_app_role=False)
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
    except MigrationError as exc:
        print(f"medremind migrate: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"medremind migrate: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    finally:
        await database.stop()
    if applied:
        print(applied_summary(applied))
    else:
        print("database is up to date")
    return 0


# More applied at once than this (a new database takes them all) are named by the first and last:
# 147 names on one line buried `make dev`'s first screen.
_NAMED_MIGRATIONS = 10


def applied_summary(applied: list[str]) -> str:
    """What ``medremind migrate`` says it applied: each name, or for a new database's many, the
    first and the last (the names are in ``supabase/migrations``, applied in order)."""
    if len(applied) <= _NAMED_MIGRATIONS:
        return f"applied {len(applied)} migration(s): " + ", ".join(applied)
    return f"applied {len(applied)} migrations, {applied[0]} to {applied[-1]}"


async def run_apikey_create(settings: Settings, org: str, name: str, role: str = "admin") -> int:
    """Create an API key for an organization and print it once."""
    from medremind.api_keys import create_api_key

    async with Database(settings) as database:
        assert database.pool is not None
        try:
            key = await create_api_key(database.pool, org, name, role)
        except LookupError as exc:
            print(f"medremind apikey create: {exc}", file=sys.stderr)
            return 1
    print(key)
    print("Store this key now: it is shown only once.", file=sys.stderr)
    return 0


async def run_rotate_credentials(settings: Settings) -> int:
    """Re-encrypt every stored secret with the first key; exit 1 if any could not be read."""
    from core.credentials import CredentialsKeyMissing, SecretBox, require_box
    from medremind.provider_accounts import reseal_all

    try:
        box = require_box(SecretBox.from_settings(settings))
    except CredentialsKeyMissing as exc:
        print(f"medremind rotate-credentials: {exc}", file=sys.stderr)
        return 1
    async with Database(settings) as database:
        assert database.pool is not None
        resealed, unreadable = await reseal_all(database.pool, box)
    print(f"re-encrypted {resealed} stored secret(s) with the first key")
    if unreadable:
        print(
            f"medremind rotate-credentials: {unreadable} secret(s) could not be decrypted with any"
            " key given; keep the key they were made with in MEDREMIND_CREDENTIALS_KEY",
            file=sys.stderr,
        )
        return 1
    return 0
