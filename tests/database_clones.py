"""Each test's own database in the migrated template's state: a finished test's put back to it
(tests.database_reset), or a clone of the template made one test ahead.

``CREATE DATABASE ... TEMPLATE`` (about 0.1-0.2 s on the 2-core CI host) and the drop afterwards
(about 0.05 s) were paid inside every database test, ~1,300 of them. A thread clones the next
test's database while the current test runs (mostly waiting on its processes, sockets and the
server). A finished test's database is put back to the template's state in the same thread after
the test (about a fifth of a clone's server CPU), under a new name, or dropped where only a new
clone can give that state (tests.database_reset says when). A test takes a database already put
back, else the clone made ahead: the one being put back after the test before it is left to
finish (the test after takes it), so neither waits on the other. Two or three databases go round
a worker that way; the clone made ahead waits for a drop. ``take(fresh=True)`` is always a new
clone (a test marked ``fresh_database`` or using ``quiet_server``: tests/conftest.py), and
``reuse=False`` (``MEDREMIND_TEST_FRESH_DATABASES=1``) gives every test one.

A clone made ahead that fails (a test restarting the shared server with ``pg_ctl``,
tests/dispatch/test_processes.py) is made again when it is taken; a database that cannot be put
back then is dropped, and a drop that fails is tried again at the session's end, before the
server is stopped.

A clone made beside a test is another session on its server: its snapshot holds back the
pruning of dead row versions in every database while it runs, so an update that would find room
on its page by pruning is not HOT. A test that measures that asks for a quiet server
(``quiet_server`` in tests/conftest.py: :meth:`DatabaseClones.quiet`), which also gives it a new
clone (no dead rows of other tests in its pages); tests/dispatch/test_burst_updates_are_hot.py
does (session 25 took the clone ahead out for it).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.database_reset import MAX_REUSES, NEXT_XID, TemplateState, reset


def with_database(url: str, database: str) -> str:
    """``url`` with its database name replaced."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def execute_on(admin_url: str, statement: str) -> None:
    """Run one statement on a connection of its own (``create database`` and ``drop database``
    run outside a transaction and may not share a connection with a test's)."""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


class DatabaseClones:
    """Databases in the state of ``template`` on the server of ``admin_url``, one per test: a
    finished test's, put back (tests.database_reset), or a clone, one always made ahead; all
    made, put back and dropped in one thread."""

    def __init__(self, admin_url: str, template: str, *, reuse: bool = True) -> None:
        self._admin_url = admin_url
        self._reuse = reuse
        self._template = template
        # One thread: clones, resets and drops run one at a time, as they did inside the tests.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-clones")
        self._next: Future[str] | None = None
        self._reused: deque[Future[str | None]] = deque()
        # Thread-only from here: each database's first transaction id after it was handed out
        # (rows written since then are a test's) and how often it was reused; the template's
        # state, read at the first reset; databases whose drop failed.
        self._since: dict[str, tuple[int, int]] = {}
        self._state: TemplateState | None = None
        self._left: list[str] = []

    def _create(self) -> str:
        name = f"medremind_test_{uuid.uuid4().hex[:12]}"
        self._since[name] = (asyncio.run(self._create_on_server(name)), 0)
        return name

    async def _create_on_server(self, name: str) -> int:
        admin = await asyncpg.connect(self._admin_url)
        try:
            await admin.execute(f'create database "{name}" template "{self._template}"')
            since: int = await admin.fetchval(NEXT_XID)
            return since
        finally:
            await admin.close()

    def _drop(self, name: str) -> None:
        asyncio.run(execute_on(self._admin_url, f'drop database if exists "{name}" with (force)'))

    def _recycle(self, name: str) -> str | None:
        """``name`` put back to the template's state under a new name, or dropped (None)."""
        since, reuses = self._since.pop(name, (None, MAX_REUSES))
        try:
            if self._reuse and since is not None and reuses < MAX_REUSES:
                renamed = asyncio.run(self._reset(name, since))
                if renamed is not None:
                    self._since[renamed[0]] = (renamed[1], reuses + 1)
                    return renamed[0]
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass  # the server restarted under a test (tests/dispatch/test_processes.py): drop
        try:
            self._drop(name)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self._left.append(name)  # tried again at the session's end
        return None

    async def _reset(self, name: str, since: int) -> tuple[str, int] | None:
        admin = await asyncpg.connect(self._admin_url)
        try:
            if self._state is None:
                self._state = await TemplateState.read(
                    admin, with_database(self._admin_url, self._template), self._template
                )
            url = with_database(self._admin_url, name)
            if not await reset(admin, url, name, since, self._state):
                return None
            renamed = f"medremind_test_{uuid.uuid4().hex[:12]}"
            await admin.execute(f'alter database "{name}" rename to "{renamed}"')
            return renamed, await admin.fetchval(NEXT_XID)
        finally:
            await admin.close()

    async def take(self, *, fresh: bool = False) -> str:
        """The name of a database in the template's state for one test: a finished test's put
        back (unless ``fresh``), or else the clone made ahead (and the next one started at once).
        A database still being put back is left to finish (the test before this one's, most
        often): the next test takes it, while this one's is put back beside that test."""
        for recycled in list(self._reused) if not fresh else []:
            if not recycled.done():
                continue
            self._reused.remove(recycled)
            if recycled.exception() is None and (reused := recycled.result()) is not None:
                return reused
        ahead, self._next = self._next, None
        name: str | None = None
        if ahead is not None:
            try:
                name = await asyncio.wrap_future(ahead)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                name = None  # made while the server restarted: made again below
        if name is None:
            name = await asyncio.wrap_future(self._thread.submit(self._create))
        self._next = self._thread.submit(self._create)
        return name

    async def quiet(self) -> None:
        """Return once the thread has finished everything submitted so far (the clone made
        ahead, the resets and drops): a test that reads what other sessions on the server hold
        back (a ``CREATE DATABASE`` beside it keeps a snapshot that stops dead row versions being
        pruned) runs on a server with nothing else on it. The thread runs one task at a time, in
        order."""
        await asyncio.wrap_future(self._thread.submit(lambda: None))

    def give_back(self, name: str) -> None:
        """Put a test's database back (or drop it) in the background, after the test."""
        self._reused.append(self._thread.submit(self._recycle, name))

    def close(self) -> None:
        """Drop the clone made ahead, the databases put back and every database whose drop
        failed; stop the thread."""
        left: list[str] = []
        if self._next is not None and self._next.exception() is None:
            left.append(self._next.result())
        for reused in self._reused:
            if reused.exception() is None and (name := reused.result()) is not None:
                left.append(name)
        self._thread.shutdown(wait=True)
        for name in left + self._left:
            self._drop(name)
