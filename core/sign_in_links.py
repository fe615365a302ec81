"""One-time sign-in links to the patient app, shared by the web (a link asked for on the sign-in
page) and the bot (``/app`` in a chat).

A link's secret is 32 random bytes in the URL fragment (``/app/#sign-in=<token>``: never sent to
a server, so link previews cannot spend it); only its SHA-256 is stored. A link works once, for
:data:`LINK_MINUTES`; at most :data:`LINKS_PER_WINDOW` are issued to one patient per window.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from core.link_messages import SIGN_IN_MARKER
from core.sql import query

LINK_MINUTES = 15
LINKS_PER_WINDOW = 3
WINDOW = timedelta(minutes=15)


def new_token() -> str:
    """32 random bytes, URL-safe (a session cookie or a sign-in link's secret)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored: SHA-256 hex (the token is random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def app_url(base_url: str | None) -> str | None:
    """The patient app's page under ``PUBLIC_BASE_URL`` (None without one)."""
    return f"{base_url.rstrip('/')}/app/" if base_url else None


def link_url(base_url: str, token: str) -> str:
    """The link the patient opens."""
    return f"{base_url.rstrip('/')}{SIGN_IN_MARKER}{token}"


async def issue_link(
    conn: asyncpg.Connection, patient_id: UUID, channel: str, now: datetime
) -> tuple[UUID, str, datetime] | None:
    """A new link for ``patient_id``, sent on ``channel``: (its id, its token, when it expires);
    None when the patient had :data:`LINKS_PER_WINDOW` links in the last window already."""
    async with conn.transaction():
        # One request at a time per patient, so the count is exact.
        await conn.execute(query("patient_app", "lock_patient_sign_in"), patient_id)
        recent = await conn.fetchval(
            query("patient_app", "recent_sign_in_links"), patient_id, now - WINDOW
        )
        if recent >= LINKS_PER_WINDOW:
            return None
        token = new_token()
        expires = now + timedelta(minutes=LINK_MINUTES)
        link_id = await conn.fetchval(
            query("patient_app", "insert_sign_in_link"),
            patient_id,
            token_hash(token),
            channel,
            now,
            expires,
        )
    return link_id, token, expires


async def revoke_sessions(conn: asyncpg.Connection, patient_id: UUID, now: datetime) -> int:
    """End every app session of the patient (sign out everywhere); how many were open."""
    status = await conn.execute(query("patient_app", "revoke_patient_sessions"), patient_id, now)
    return int(status.split()[-1])


__all__ = [
    "LINKS_PER_WINDOW",
    "LINK_MINUTES",
    "issue_link",
    "link_url",
    "new_token",
    "revoke_sessions",
    "token_hash",
]
