"""Wrong credentials per client address: a client that keeps sending made-up API keys (or
dashboard admin or pause tokens, patient app sign-in codes or session cookies) is refused before
any database lookup.

Each wrong key cost a query and a hash, however many a client sent. Now each client address may
have ``MEDREMIND_AUTH_FAILURES_PER_CLIENT`` credentials checked and found wrong per
``MEDREMIND_AUTH_FAILURE_WINDOW_SECONDS`` (all at once, then one per window / limit, a token
bucket); past it the answer is a 429 with ``Retry-After``, and nothing is looked up or hashed.

- A check takes its token *before* the lookup and a valid credential gives it back: a thousand
  wrong keys sent at once are checked ``limit`` times, not a thousand (they would all pass a count
  of failures made only after their lookups).
- A key that was valid from an address within a day (``TRUST_SECONDS``) is still checked while that
  address is held: a clinic's integration behind a shared NAT goes on working while someone else
  there sends wrong keys. A key is trusted by its prefix (``mr_<prefix>_...``, not secret, but
  only a valid key earns trust); the same prefix with a wrong secret loses it at once, and at
  most ``limit`` checks of a trusted key run at once (a wave sent before the first wrong one).
- The address is the one uvicorn gives (behind a proxy: from ``X-Forwarded-For`` as
  ``FORWARDED_ALLOW_IPS`` allows, :mod:`medremind.web.patient_app.client_rate`), so a header the
  client writes itself names no new client. An IPv6 client is its /64: one host has a whole /64
  to rotate through.
- Memory is bounded: at most 10,000 addresses and 10,000 trusted (address, key) pairs are
  remembered (:mod:`medremind.web.failure_limiter`), the least recently seen forgotten first; an
  address whose bucket is full again is forgotten at once (it holds nothing a fresh one would
  not).

- A patient app session cookie (``session``, on ``/app/api`` and the ``/app/ws`` socket) is
  trusted by its hash once it was valid from the address, and from the moment sign-in made it
  there (:func:`trust`): patients behind one carrier-grade NAT keep their sessions while someone
  there forges cookies, and a patient held with them can sign in again. A cookie that was no
  session's is deleted in its 401, so a browser does not spend the limit on an ended session.

The buckets live in each web process (a lookup in Postgres is the cost being avoided), so with
``WEB_CONCURRENCY`` processes a client has up to that many times the limit checked.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import HTTPConnection

from medremind.web.errors import ApiError
from medremind.web.failure_limiter import FailureLimiter, client_of
from medremind.web.metrics import CREDENTIALS_HELD
from medremind.web.state import WebState, web_state

# What each door checks, the field it comes in, and what a held client is told to do about it.
_DOORS: dict[str, tuple[str, str | None, str]] = {
    "api_key": (
        "wrong API keys",
        "Authorization",
        "Check the key in the Authorization header (medremind apikey list shows the prefixes of"
        " the keys there are). On a shared network another machine may be sending them: a key"
        " that worked from this address lately is still checked.",
    ),
    "admin_token": (
        "unknown admin tokens",
        None,  # the dashboard shows the reason; no field of its form is at fault
        "The dashboard asks for a new token for each change: try again from the dashboard.",
    ),
    "pause_token": (
        "unknown pause tokens",
        None,  # as for admin tokens: the dashboard shows the reason
        "The dashboard asks for a new token for each pause: try again from the dashboard.",
    ),
    "sign_in_link": (
        "sign-in links that did not work",
        "token",
        "Open the newest sign-in link you were sent, or ask for a new one.",
    ),
    "session": (
        "ended or unknown sessions",
        None,  # a cookie, which the browser sends: no field the patient wrote
        "Ask for a new sign-in link and open it: a session started from this address is still"
        " checked.",
    ),
}


def in_words(seconds: float) -> str:
    """A wait or a window in words: seconds while they are few, else whole minutes (rounded up:
    never too early). Also the patient app's sign-in requests' 429 (client_rate)."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole > 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


def _limiter(state: WebState, door: str) -> FailureLimiter:
    limiter = state.failure_limiters.get(door)
    if limiter is None:
        settings = state.settings
        limiter = state.failure_limiters[door] = FailureLimiter(
            settings.auth_failures_per_client, settings.auth_failure_window_seconds
        )
    return limiter


def _client(request: HTTPConnection) -> str:
    return client_of(request.client.host if request.client is not None else None)


class CredentialCheck:
    """One request's check of a credential under its client's limit: made by :func:`admitted`
    before the lookup; then the lookup's outcome is told to it, once."""

    def __init__(
        self,
        limiter: FailureLimiter,
        client: str,
        now: float,
        credential: str | None,
        *,
        took: bool,
    ):
        self._limiter = limiter
        self._client = client
        self._now = now
        self._credential = credential
        self._took = took  # False: a trusted credential, checked without spending a token

    def succeeded(self) -> None:
        """The credential was valid: the check given back, the credential trusted."""
        self.not_checked()
        if self._credential is not None:
            self._limiter.trust(self._client, self._credential, self._now)

    def not_checked(self) -> None:
        """The lookup could not be made (the database, a cancelled request): the check given
        back, nothing learnt."""
        if self._took:
            self._limiter.give_back(self._client, self._now)
        elif self._credential is not None:
            self._limiter.leave_trusted(self._client, self._credential)

    def failed(self) -> None:
        """The credential was wrong."""
        if not self._took and self._credential is not None:
            self._limiter.leave_trusted(self._client, self._credential)
            self._limiter.distrust(self._client, self._credential, self._now)


def admitted(request: HTTPConnection, door: str, credential: str | None = None) -> CredentialCheck:
    """The check of the request's credential at ``door`` (``api_key``: ``credential`` is the
    key's prefix; ``admin_token``; ``sign_in_link``; ``session``: the cookie's hash), or a 429
    with ``Retry-After`` when its client sent too many wrong ones: then nothing is looked up."""
    state = web_state(request)
    limiter = _limiter(state, door)
    client = _client(request)
    now = state.clock().timestamp()
    if credential is not None and limiter.enter_trusted(client, credential, now):
        return CredentialCheck(limiter, client, now, credential, took=False)
    wait = limiter.take(client, now)
    if wait > 0:
        CREDENTIALS_HELD.labels(door).inc()
        what, field, fix = _DOORS[door]
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"too many {what} from your address ({client}): at most {limiter.limit} in"
            f" {in_words(limiter.window_seconds)}, so none is checked for {in_words(seconds)}."
            f" {fix}",
            field=field,
            headers={"Retry-After": str(seconds)},
        )
    return CredentialCheck(limiter, client, now, credential, took=True)


_Row = TypeVar("_Row")


async def checked_lookup(
    request: HTTPConnection,
    door: str,
    lookup: Callable[[], Awaitable[_Row | None]],
    credential: str | None = None,
) -> _Row | None:
    """``lookup()`` of the request's credential under its client's limit at ``door``
    (:func:`admitted`: a 429 before it when the client is held): its row, or None for a wrong
    credential, counted. A lookup that raised (the database, a cancelled request) counts nothing.
    """
    check = admitted(request, door, credential)
    try:
        row = await lookup()
    except BaseException:
        check.not_checked()
        raise
    if row is None:
        check.failed()
    else:
        check.succeeded()
    return row


def trust(request: HTTPConnection, door: str, credential: str) -> None:
    """``credential`` was just issued to the request's client (a new session's hash): trusted
    from its address as if it had been checked there, so it works while that address is held."""
    state = web_state(request)
    client = _client(request)
    _limiter(state, door).trust(client, credential, state.clock().timestamp())


__all__ = ["CredentialCheck", "admitted", "checked_lookup", "in_words", "trust"]
