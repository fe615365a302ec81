"""Sign-in requests per client: one client may not ask for links for many patients.

A link goes to at most :data:`core.sign_in_links.LINKS_PER_WINDOW` per patient per window, but a
client naming one number after another got a text sent to every patient it hit. Each client
address may make ``MEDREMIND_SIGN_IN_REQUESTS_PER_CLIENT`` requests per :data:`WINDOW` (all at
once, then one per ``WINDOW / limit``), over every web process (a bucket in Postgres,
``sign_in_client_rates``, migration 20260101015580); past it the answer is a 429 saying when to
try again, with ``Retry-After``.

The address is the one the web process sees: behind a proxy, uvicorn takes it from
``X-Forwarded-For`` when the connection comes from an address in ``FORWARDED_ALLOW_IPS`` (by
default the machine itself, where docs/operations.md puts nginx or Caddy), the last address that
proxy did not add itself (so a client cannot choose its own by sending the header).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from datetime import datetime, timedelta

import asyncpg
from starlette.requests import Request

from core.sql import query
from medremind.web.errors import ApiError
from medremind.web.failed_credentials import in_words
from medremind.web.state import web_state

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)


async def client_key(request: Request, conn: asyncpg.Connection) -> str:
    """The bucket's key: an HMAC-SHA-256 of the client's address under the database's own salt
    (migration 20260101015700). An address is not stored, nor a plain hash of it, which hashing
    every IPv4 address would find again."""
    address = request.client.host if request.client is not None else "unknown"
    _warn_if_behind_a_silent_proxy(request, address)
    salt: bytes = await conn.fetchval(query("patient_app", "sign_in_client_salt"))
    return hmac.new(salt, address.encode("utf-8"), hashlib.sha256).hexdigest()


_warned = False


def _warn_if_behind_a_silent_proxy(request: Request, address: str) -> None:
    """Log once per process when an https service sees a sign-in request from its own machine
    without ``X-Forwarded-For``: a proxy that does not add the header makes every patient one
    client, and ten requests in 15 minutes would hold every sign-in (docs/operations.md)."""
    global _warned
    base = web_state(request).settings.public_base_url or ""
    if _warned or not base.startswith("https://") or "x-forwarded-for" in request.headers:
        return
    if address in ("127.0.0.1", "::1"):
        _warned = True
        logger.warning(
            "sign-in requests come from the proxy's own address: set X-Forwarded-For in the"
            " proxy, or every client shares one sign-in limit (docs/operations.md)"
        )


async def take_request(conn: asyncpg.Connection, key: str, limit: int, now: datetime) -> None:
    """Count one sign-in request of client ``key`` at ``now``; a 429 past ``limit`` per
    :data:`WINDOW` (``limit`` 0: no limit)."""
    if limit <= 0:
        return
    interval = WINDOW.total_seconds() / limit
    if await conn.fetchval(
        query("patient_app", "take_sign_in_client_rate"), key, now, interval, limit
    ):
        return
    wait = await conn.fetchval(
        query("patient_app", "sign_in_client_wait"), key, now, interval, limit
    )
    seconds = max(1, math.ceil(wait or interval))
    raise ApiError(
        429,
        f"too many sign-in requests from this network: at most {limit} in"
        f" {int(WINDOW.total_seconds() // 60)} minutes. Try again in {in_words(seconds)}",
        headers={"Retry-After": str(seconds)},
    )


__all__ = ["WINDOW", "client_key", "take_request"]
