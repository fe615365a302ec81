"""The database port: an asyncpg pool on ``DATABASE_URL`` or on the embedded server.

Connections switch to the least-privilege role (``MEDREMIND_DB_ROLE``, default ``medremind_app``)
so the processes run under the same row-level security as everyone else. Behind Supabase's
transaction pooler (port 6543 or ``pgbouncer=true``) prepared statements are disabled.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from core.db_startup import StartupWindow
from core.embedded import EmbeddedPostgres
from core.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

_TERMINATED = "the database's connections were terminated (the stop ran out of time)"

# For processes that run batch statements over arrays of ids (the worker: claim, record, planner).
# After five executions PostgreSQL may switch a prepared statement to a generic plan, which cannot
# see how long the arrays are: the dispatcher's record statement then scanned a whole partial index
# that grows with every sent row (measured 30 ms -> 300 ms per 500 outcomes, bench/dispatch.py
# scenario 1). Planning each execution costs well under a millisecond per batch. Behind Supabase's
# transaction pooler every statement is planned with its values anyway (unnamed statements).
CUSTOM_PLANS: Mapping[str, str] = {"plan_cache_mode": "force_custom_plan"}


def uses_transaction_pooler(url: str) -> bool:
    """Supabase's transaction-mode pooler cannot keep prepared statements between transactions."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    return parts.port == 6543 or query.get("pgbouncer") == "true"


def _strip_pooler_flag(url: str) -> str:
    """asyncpg rejects unknown query parameters such as Prisma's ``pgbouncer=true``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "pgbouncer"]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def init_connection(conn: asyncpg.Connection) -> None:
    """Per-connection setup: JSON codecs for json and jsonb."""
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool reset hook that runs no query (asyncpg has already rolled back any transaction)."""


class Database:
    """Owns the connection URL (starting the embedded server if needed) and the pool.

    ``server_settings``: extra startup parameters for every connection (:data:`CUSTOM_PLANS`).
    ``reset_sessions=False`` skips asyncpg's reset query (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL: one more round trip per release) for code that leaves no session state on pooled
    connections; an open transaction is still rolled back. The web process uses it.

    ``startup_wait_seconds``: how long :meth:`start` and the process's start-up queries
    (:meth:`during_startup`) keep trying, together, while the server cannot take connections or
    drops them (a restart or fail-over under a process that is starting); 0 fails at once. A
    refused login or a missing migration fails at once with a
    :class:`~core.db_startup.StartupError` that says how to fix it. The long-running processes
    pass ``settings.db_startup_wait_seconds``; commands fail at once.

    ``async with Database(settings) as db`` starts and stops it; ``start``/``stop`` are idempotent.
    :meth:`terminate` aborts every connection at once, for a stop that cannot wait for a
    database that does not answer.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        role: str | None = None,
        url: str | None = None,
        server_settings: Mapping[str, str] | None = None,
        reset_sessions: bool = True,
        startup_wait_seconds: float = 0.0,
    ):
        self.settings = settings
        self._reset_sessions = reset_sessions
        self._server_settings = dict(server_settings or {})
        self._explicit_url = url
        self.role = settings.db_role if role is None else role
        self.startup = StartupWindow(startup_wait_seconds, role=self.role)
        self._embedded: EmbeddedPostgres | None = None
        self.pool: asyncpg.Pool | None = None
        self.url: str | None = None
        # What terminate() aborts besides the pool: connections opened by connect(), and the
        # attempts still connecting (asyncpg waits up to 60 s for a server that never answers).
        self._closing_pool: asyncpg.Pool | None = None
        self._connections: set[asyncpg.Connection] = set()
        self._opening: set[asyncio.Future[asyncpg.Connection]] = set()
        self.terminated = False

    def resolve_url(self) -> str:
        """The URL to connect to, starting the embedded server when there is no DATABASE_URL."""
        if self.url is not None:
            return self.url
        if self._explicit_url:
            self.url = self._explicit_url
        elif self.settings.database_url is not None:
            self.url = self.settings.database_url.get_secret_value()
        else:
            self._embedded = EmbeddedPostgres(self.settings.data_dir)
            self.url = self._embedded.start()
        return self.url

    @property
    def embedded(self) -> EmbeddedPostgres | None:
        """The embedded server this database runs on, once :meth:`resolve_url` started it."""
        return self._embedded

    def connect_kwargs(self, *, as_app_role: bool = True) -> dict[str, Any]:
        """Keyword arguments for ``asyncpg.connect``/``create_pool`` on this database.

        The role and UTC are startup parameters rather than ``SET`` so that the pool's
        ``RESET ALL`` between users returns to them instead of to the login role.
        """
        url = self.resolve_url()
        server_settings = {
            "timezone": "UTC",
            "application_name": "medremind",
            **self._server_settings,
        }
        if as_app_role and self.role:
            server_settings["role"] = self.role
        kwargs: dict[str, Any] = {
            "dsn": _strip_pooler_flag(url),
            "server_settings": server_settings,
        }
        if uses_transaction_pooler(url):
            kwargs["statement_cache_size"] = 0
        return kwargs

    async def connect(self, *, as_app_role: bool = True) -> asyncpg.Connection:
        """A single connection outside the pool (LISTEN, migrations, advisory locks)."""
        conn = await self._open(**self.connect_kwargs(as_app_role=as_app_role))
        await init_connection(conn)
        return conn

    async def _open(self, *args: Any, **kwargs: Any) -> asyncpg.Connection:
        """``asyncpg.connect``, for :meth:`connect` and the pool's new connections, that
        :meth:`terminate` can abort: an attempt under way is cancelled, later ones fail."""
        if self.terminated:
            raise asyncpg.InterfaceError(_TERMINATED)
        opening = asyncio.ensure_future(asyncpg.connect(*args, **kwargs))
        self._opening.add(opening)
        try:
            conn = await opening
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.terminated and not (task is not None and task.cancelling()):
                # terminate() cancelled the attempt, not the caller: a database error to it.
                raise asyncpg.InterfaceError(_TERMINATED) from None
            raise
        finally:
            self._opening.discard(opening)
        self._connections = {c for c in self._connections if not c.is_closed()}
        self._connections.add(conn)
        return conn

    async def start(self) -> Database:
        """Open the pool (within the start-up wait); safe to call twice."""
        if self.pool is None:
            self.pool = await self.startup.run(
                self._create_pool, what="opening the pool", connecting=True
            )
        return self

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            **self.connect_kwargs(),
            min_size=self.settings.db_pool_min,
            max_size=self.settings.db_pool_max,
            init=init_connection,
            connect=self._open,
            reset=None if self._reset_sessions else _keep_session,
        )

    async def during_startup(self, step: Callable[[], Awaitable[T]], *, what: str) -> T:
        """Run a start-up step on the open pool, again while the server restarts, within what is
        left of the start-up wait (:class:`~core.db_startup.StartupWindow`). ``step`` must be safe
        to run twice; ``what`` names it in the logs (no values)."""
        return await self.startup.run(step, what=what, connecting=False)

    async def stop(self) -> None:
        """Close the pool and release the embedded server; safe to call twice."""
        if self.pool is not None:
            pool, self.pool = self.pool, None
            self._closing_pool = pool  # terminate() still reaches it while it closes
            try:
                await pool.close()
            finally:
                self._closing_pool = None
        if self._embedded is not None:
            embedded, self._embedded = self._embedded, None
            embedded.stop()

    def terminate(self) -> None:
        """Abort every connection now (the pool's, :meth:`connect`'s, and those still
        connecting) without a word to the server; later connects fail at once.

        For a stop whose database answers nothing (a partition that drops packets): a statement
        cancelled there waits for its CancelRequest and a release for it, with no bound, and a
        connect waits 60 s. Each of those awaits then ends with an ``InterfaceError`` or
        ``ConnectionDoesNotExistError``; what was not recorded the reaper returns.
        """
        self.terminated = True
        for opening in list(self._opening):
            opening.cancel()
        for conn in list(self._connections):
            conn.terminate()
        self._connections.clear()
        for pool in (self.pool, self._closing_pool):
            if pool is not None:
                pool.terminate()

    async def __aenter__(self) -> Database:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
