"""Patient app sessions: random tokens, stored hashed, in a short-lived httpOnly cookie.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page can
make the browser send it: with the JSON-only API this is the CSRF defence), ``Secure`` when the
service is reached over https, and scoped to ``/app``. A session lasts :data:`SESSION_HOURS` and
is revoked by signing out (this device or all); the database row is what counts, so revoking
takes effect on the next request.

A cookie is looked up only under its client address's limit of wrong credentials
(:mod:`medremind.web.failed_credentials`, door ``session``): forged cookies from one address are
answered 429 without a lookup once it sent ``MEDREMIND_AUTH_FAILURES_PER_CLIENT``. A cookie that
was no session's is deleted in its 401, so the browser stops sending it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from core.sign_in_links import new_token, token_hash
from core.sql import query
from medremind.web import failed_credentials
from medremind.web.errors import ApiError
from medremind.web.state import web_state

__all__ = [
    "COOKIE",
    "MAX_TOKEN_CHARS",
    "PatientSession",
    "current_patient",
    "new_token",
    "session_of",
    "token_hash",
]

COOKIE = "medremind_session"
COOKIE_PATH = "/app"
SESSION_HOURS = 12
SESSION_LIFETIME = timedelta(hours=SESSION_HOURS)
# Our tokens are 43 characters; a longer cookie is no session's and is refused unread.
MAX_TOKEN_CHARS = 100


@dataclass(frozen=True, slots=True)
class PatientSession:
    """The signed-in patient of a request."""

    session_id: UUID
    patient_id: UUID
    display_name: str | None
    timezone: str
    locale: str


def _secure(request: HTTPConnection) -> bool:
    base = web_state(request).settings.public_base_url or ""
    return request.url.scheme == "https" or base.startswith("https://")


def set_session_cookie(request: HTTPConnection, response: Response, token: str) -> None:
    """Put the session token on ``response``."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear_session_cookie(request: HTTPConnection, response: Response) -> None:
    """Remove the cookie from the browser."""
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request)
    )


def check_origin(request: Request) -> None:
    """Refuse a state-changing request that a browser says came from another origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    allowed = {f"http://{host}", f"https://{host}"}
    base = web_state(request).settings.public_base_url
    if base:
        allowed.add(base)
    if origin not in allowed:
        raise ApiError(403, "this request came from another site; open the app itself")


async def current_patient(request: Request) -> PatientSession:
    """The request's patient; 401 when there is no valid, unrevoked, unexpired session, 429
    (nothing looked up) when the client's address sent too many cookies that were no session's.
    """
    check_origin(request)
    _, row = await session_of(request)
    return PatientSession(
        row["session_id"], row["patient_id"], row["display_name"], row["timezone"], row["locale"]
    )


async def session_of(connection: HTTPConnection) -> tuple[str, Any]:
    """The hash of the connection's session cookie and its ``session_patient`` row; an
    :class:`ApiError` 401 (no cookie, or no live session: the 401 deletes the cookie) or 429 (the
    address is held: :mod:`medremind.web.failed_credentials`). Also the ``/app/ws`` handshake's.
    """
    token = connection.cookies.get(COOKIE)
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise ApiError(401, "not signed in: ask for a sign-in link")
    session_hash = token_hash(token)
    state = web_state(connection)
    row: Any = await failed_credentials.checked_lookup(
        connection,
        "session",
        lambda: state.pool.fetchrow(
            query("patient_app", "session_patient"), session_hash, state.clock()
        ),
        session_hash,
    )
    if row is None:
        raise ApiError(
            401,
            "your session ended: ask for a new sign-in link",
            headers={"Set-Cookie": _cleared_cookie(connection)},
        )
    return session_hash, row


def _cleared_cookie(request: HTTPConnection) -> str:
    """The ``Set-Cookie`` header that deletes the session cookie (for an error answer)."""
    response = Response()
    clear_session_cookie(request, response)
    return response.headers["set-cookie"]
