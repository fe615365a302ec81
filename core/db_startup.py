"""A process's start-up against a database that may be restarting: wait for it, or fail clearly.

``medremind worker`` and ``medremind web`` open their pool and then read what they need before
they serve (clinics' provider accounts, Telegram bots, the published limits). A PostgreSQL restart
or fail-over under either step is worth another try, within one budget for the whole start-up
(``MEDREMIND_DB_STARTUP_WAIT_SECONDS``); a refused login or a schema older than the code is not:
waiting never fixes it, so the process stops at once with a :class:`StartupError` that says what
is wrong and how to fix it.

Errors, by what start-up does with them::

    unavailable (is_unavailable)        -> try again until the budget is spent
        OSError, TimeoutError             refused, reset, unreachable, slow
        class 08 (connection exception)   the connection went away mid-query (not 08P01)
        57P01 57P02 57P03                 terminated by a shutdown or crash; starting up
        53300                             too many connections
    known and permanent (explain)       -> StartupError with the fix, no retry
        28P01 28000                       login refused
        3D000                             no such database
        22023 42501 at connect            MEDREMIND_DB_ROLE missing or not granted
        42P01 42703 42883 42704 3F000     the schema is behind the code: run medremind migrate
    anything else                       -> raised as it is, no retry

Logs name the error's type and the step, never its text: that may hold the host, the user or the
data directory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

logger = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_SECONDS = 0.5
LONGEST_RETRY_SECONDS = 5.0

# What a server that is restarting, failing over or full answers.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,  # class 08: ConnectionDoesNotExistError and its kin
    asyncpg.AdminShutdownError,  # 57P01: a fast or smart shutdown ended the session
    asyncpg.CrashShutdownError,  # 57P02: another backend crashed, the server restarts
    asyncpg.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
    asyncpg.TooManyConnectionsError,  # 53300
)
# 08P01 is a connection exception too, but the peer speaks no PostgreSQL: not a restart.
_NOT_A_RESTART: tuple[type[BaseException], ...] = (asyncpg.ProtocolViolationError,)

_MIGRATE = "run `medremind migrate` (the Procfile's release step) with this release's code"
_SCHEMA_BEHIND: tuple[type[BaseException], ...] = (
    asyncpg.UndefinedTableError,
    asyncpg.UndefinedColumnError,
    asyncpg.UndefinedFunctionError,
    asyncpg.UndefinedObjectError,
    asyncpg.InvalidSchemaNameError,
)


class StartupError(Exception):
    """The database refused the process for a reason that waiting does not fix; the message says
    what is wrong and how to fix it, and holds no secret, host or user name."""


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is what a restarting, failing-over or full server answers."""
    return isinstance(exc, _UNAVAILABLE) and not isinstance(exc, _NOT_A_RESTART)


def explain(exc: BaseException, *, role: str, connecting: bool) -> str | None:
    """What is wrong and how to fix it, for an error waiting never fixes; None when unknown.

    ``connecting``: ``exc`` came from opening a connection (the role is a startup parameter
    there), not from a query.
    """
    kind = type(exc).__name__
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return f"the database refused the password ({kind}): check the password in DATABASE_URL"
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return (
            f"the database refused the login ({kind}: no such user, or the server's pg_hba.conf"
            " does not let it in from here): check the user in DATABASE_URL"
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return (
            f"the database named in DATABASE_URL does not exist ({kind}): create it or fix the"
            " name in DATABASE_URL"
        )
    if connecting and isinstance(
        exc, asyncpg.InvalidParameterValueError | asyncpg.InsufficientPrivilegeError
    ):
        return (
            f"the login cannot switch to the role MEDREMIND_DB_ROLE={role!r} ({kind}): {_MIGRATE}"
            " (it creates the role and grants it), or set MEDREMIND_DB_ROLE to a role the login"
            " is a member of (empty: stay the login role)"
        )
    if isinstance(exc, _SCHEMA_BEHIND):
        return f"the database schema is older than this code ({kind}): {_MIGRATE}"
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return (
            f"the role {role!r} may not read what start-up needs ({kind}): {_MIGRATE} (it grants"
            " the role its privileges)"
        )
    return None


class StartupWindow:
    """One budget of ``wait_seconds`` for every step of a process's start-up, from its first step.

    :meth:`run` runs a step, again with backoff (0.5 s doubling to 5 s) while the server is
    unavailable; steps must be safe to run twice (they read, or upsert). When the budget is spent
    the last error is raised as a :class:`StartupError` (as it is with no budget: ``wait_seconds``
    0 fails at once, as the one-shot commands do). ``clock`` and ``sleep`` are injectable.
    """

    def __init__(
        self,
        wait_seconds: float,
        *,
        role: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.wait_seconds = wait_seconds
        self._role = role
        self._clock = clock
        self._sleep = sleep
        self._deadline: float | None = None
        self._delay = FIRST_RETRY_SECONDS

    async def run(self, step: Callable[[], Awaitable[T]], *, what: str, connecting: bool) -> T:
        """``step()``'s result, trying again while the database is unavailable; see the class.

        ``what``: the step, for the logs. ``connecting``: the step opens connections (see
        :func:`explain`).
        """
        if self._deadline is None:
            self._deadline = self._clock() + self.wait_seconds
        while True:
            try:
                result = await step()
            except Exception as exc:
                left = self._deadline - self._clock()
                if is_unavailable(exc) and left > 0:
                    delay = min(self._delay, left)
                    logger.warning(
                        "database unavailable at start-up; retrying",
                        extra={
                            "step": what,
                            "error": type(exc).__name__,
                            "retry_in": round(delay, 1),
                        },
                    )
                    await self._sleep(delay)
                    self._delay = min(self._delay * 2, LONGEST_RETRY_SECONDS)
                    continue
                problem = self._problem(exc, what=what, connecting=connecting)
                if problem is None:
                    raise
                logger.error("database start-up failed", extra={"step": what, "problem": problem})
                raise StartupError(problem) from exc
            self._delay = FIRST_RETRY_SECONDS  # a later outage backs off afresh
            return result

    def _problem(self, exc: Exception, *, what: str, connecting: bool) -> str | None:
        """The :class:`StartupError` message for ``exc``; None: raise ``exc`` as it is."""
        if not is_unavailable(exc):
            return explain(exc, role=self._role, connecting=connecting)
        if self.wait_seconds <= 0:
            return None  # no wait asked for (the one-shot commands)
        return (
            f"the database stayed unavailable for the whole start-up wait ({self.wait_seconds:g} s;"
            f" last error {type(exc).__name__} while {what}): check that PostgreSQL runs and"
            " DATABASE_URL reaches it, or allow a longer MEDREMIND_DB_STARTUP_WAIT_SECONDS"
        )
