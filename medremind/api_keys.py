"""API keys of organizations: ``mr_<prefix>_<secret>``, stored as a SHA-256 hash plus the prefix.

The full key is shown once, at creation. Lookup goes by the prefix (unique, indexed, not secret)
and the hash is compared in constant time, so a stolen database dump holds no usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from core.sql import query

KEY_SCHEME = "mr"
# 6 random bytes of prefix (12 hex characters) make a collision on insert vanishingly rare; the
# 32-byte secret is what protects the key.
_PREFIX_BYTES = 6
_SECRET_BYTES = 32
# last_used_at is a convenience for revoking stale keys; writing it on every request would turn
# every API read into a write, so it is refreshed at most once per this many seconds.
_LAST_USED_RESOLUTION_S = 60


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of the whole key string."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _parse(key: str) -> tuple[str, str] | None:
    scheme, sep, rest = key.partition("_")
    prefix, sep2, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not sep or not sep2 or not prefix or not secret:
        return None
    return prefix, secret


def key_prefix(header: str | None) -> str | None:
    """The public prefix of the key in an ``Authorization: Bearer <key>`` header (no secret)."""
    scheme, _, key = (header or "").strip().partition(" ")
    parsed = _parse(key.strip()) if scheme.lower() == "bearer" else None
    return parsed[0] if parsed else None


async def _find_organization(conn: asyncpg.Connection, org: str) -> uuid.UUID:
    try:
        org_id = uuid.UUID(org)
    except ValueError:
        org_id = None
    if org_id is not None:
        found = await conn.fetchval(query("web", "organization_by_id"), org_id)
        if found is not None:
            return found
    rows = await conn.fetch(query("web", "organizations_by_name"), org)
    if len(rows) == 1:
        return rows[0]["id"]
    if len(rows) > 1:
        raise LookupError(f"{len(rows)} organizations are named {org!r}; pass the id instead")
    names = [r["name"] for r in await conn.fetch(query("web", "organization_names"), _NAMES_SHOWN)]
    raise LookupError(f"no organization with id or name {org!r}. {_known(names)} {_HOW_TO_CREATE}")


# A newcomer with a fresh database has no clinic to pass, and a typo deserves the right name.
_NAMES_SHOWN = 10
_HOW_TO_CREATE = (
    "A clinic is created with its first clinician: in dashboard/, `npm run create-clinician --"
    ' --email you@clinic.example --password ... --org-name "My Clinic"` (dashboard/README.md).'
)


def _known(names: list[str]) -> str:
    """The clinics there are, for the error of an unknown ``--org``."""
    if not names:
        return "This database has no clinic yet."
    shown = ", ".join(repr(name) for name in names)
    more = ", ..." if len(names) == _NAMES_SHOWN else ""
    return f"Clinics here: {shown}{more}."


ROLES = ("admin", "clinician")


@dataclass(frozen=True)
class Caller:
    """Who a valid key speaks for: its organization and its role (``admin`` or ``clinician``)."""

    organization_id: uuid.UUID
    role: str

    @property
    def is_admin(self) -> bool:
        """Whether the key may change the clinic's settings, templates, webhooks, accounts."""
        return self.role == "admin"


async def create_api_key(pool: asyncpg.Pool, org: str, name: str, role: str = "admin") -> str:
    """Create a key for the organization ``org`` (its id or exact name); return the full key.

    ``role``: ``admin`` (everything) or ``clinician`` (not settings, templates, webhooks,
    provider accounts). Raises ``LookupError`` when no single organization matches ``org``.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    async with pool.acquire() as conn:
        org_id = await _find_organization(conn, org)
        prefix = secrets.token_hex(_PREFIX_BYTES)
        key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        await conn.execute(
            query("web", "insert_api_key"), org_id, name, prefix, hash_key(key), role
        )
    return key


async def list_api_keys(pool: asyncpg.Pool, org: str | None) -> list[asyncpg.Record]:
    """Every key (of the organization ``org``, its id or exact name, or of all), without its
    hash: prefix, name, role, clinic, created_at, last_used_at, revoked_at. Raises
    ``LookupError`` when no single organization matches ``org``."""
    async with pool.acquire() as conn:
        org_id = await _find_organization(conn, org) if org is not None else None
        rows: list[asyncpg.Record] = await conn.fetch(query("web", "api_keys_listed"), org_id)
    return rows


def prefix_of(key_or_prefix: str) -> str:
    """The prefix of a whole key (``mr_<prefix>_<secret>``), or the text itself (a prefix, as
    ``medremind apikey list`` and ``mr_<prefix>_...`` show it)."""
    text = key_or_prefix.strip()
    parsed = _parse(text.removesuffix("..."))
    if parsed is not None:
        return parsed[0]
    return text.removeprefix(f"{KEY_SCHEME}_").removesuffix("_...").removesuffix("_")


async def revoke_api_key(pool: asyncpg.Pool, key_or_prefix: str) -> asyncpg.Record | None:
    """Revoke the key (its prefix, or the whole key): refused from the next request on. The
    key's prefix, name, clinic, revoked_at and whether this call revoked it (``now_revoked``;
    false: it was revoked already), or None when no key has that prefix."""
    async with pool.acquire() as conn:
        row: asyncpg.Record | None = await conn.fetchrow(
            query("web", "revoke_api_key"), prefix_of(key_or_prefix)
        )
    return row


@dataclass(frozen=True)
class RateLimit:
    """At most ``per_minute`` requests a minute per key on average, ``burst`` of them at once."""

    per_minute: float
    burst: int


class RateLimited(Exception):
    """The key is over its rate limit; ``retry_after`` seconds until one more request fits."""

    def __init__(self, retry_after: float):
        super().__init__(f"rate limited for {retry_after:.1f} s")
        self.retry_after = retry_after


async def authenticate(
    pool: asyncpg.Pool, header: str | None, rate: RateLimit | None = None
) -> Caller | None:
    """The organization and role of the key in an ``Authorization: Bearer <key>`` header, or
    None.

    None for a missing header, a malformed or unknown key, and a revoked key alike: the caller
    answers 401 without saying which. With ``rate``, a valid key over its limit raises
    :class:`RateLimited` (the limit is kept in Postgres, so it holds across web processes).
    """
    if not header:
        return None
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    parsed = _parse(key.strip())
    if parsed is None:
        return None
    prefix, _ = parsed
    async with pool.acquire() as conn:
        row = await conn.fetchrow(query("web", "api_key_by_prefix"), prefix)
        if row is None or not hmac.compare_digest(row["key_hash"], hash_key(key.strip())):
            return None
        if rate is not None:
            await _take_rate(conn, row["id"], rate)
        await conn.execute(query("web", "touch_api_key"), row["id"], _LAST_USED_RESOLUTION_S)
    return Caller(row["organization_id"], row["role"])


async def _take_rate(conn: asyncpg.Connection, key_id: uuid.UUID, rate: RateLimit) -> None:
    interval = 60.0 / rate.per_minute
    if await conn.fetchval(query("web", "take_api_key_rate"), key_id, interval, rate.burst):
        return
    wait = await conn.fetchval(query("web", "api_key_rate_wait"), key_id, interval, rate.burst)
    raise RateLimited(wait or interval)
