"""Small one-shot commands: ``migrate``, ``apikey create`` and ``rotate-credentials``."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

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


def _when(value: object) -> str:
    if not isinstance(value, datetime):
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def run_apikey_list(settings: Settings, org: str | None) -> int:
    """Print the API keys (of one organization, or all): never a key's secret, nor its hash."""
    from medremind.api_keys import list_api_keys

    async with Database(settings) as database:
        assert database.pool is not None
        try:
            rows = await list_api_keys(database.pool, org)
        except LookupError as exc:
            print(f"medremind apikey list: {exc}", file=sys.stderr)
            return 1
    if not rows:
        print("no API keys" + (f" of {org!r}" if org else ""))
        return 0
    print("key | clinic | name | role | created | last used | revoked")
    for r in rows:
        cells = (f"mr_{r['prefix']}_...", r["clinic"], r["name"], r["role"])
        times = (_when(r["created_at"]), _when(r["last_used_at"]), _when(r["revoked_at"]))
        print(" | ".join((*cells, *times)))
    return 0


async def run_apikey_revoke(settings: Settings, key_or_prefix: str) -> int:
    """Revoke a key (its prefix as listed, or the whole key); exit 1 when there is none."""
    from medremind.api_keys import prefix_of, revoke_api_key

    async with Database(settings) as database:
        assert database.pool is not None
        row = await revoke_api_key(database.pool, key_or_prefix)
    if row is None:
        print(
            f"medremind apikey revoke: no API key has the prefix {prefix_of(key_or_prefix)!r};"
            " `medremind apikey list` shows them (mr_<prefix>_...)",
            file=sys.stderr,
        )
        return 1
    label = f"mr_{row['prefix']}_... ({row['name']}) of {row['clinic']}"
    if row["now_revoked"]:
        print(f"revoked {label}: refused from the next request on")
    else:
        print(f"{label} was revoked already, at {_when(row['revoked_at'])}")
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
