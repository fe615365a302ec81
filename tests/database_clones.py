"""Each test's fresh database, cloned from the worker's migrated template one test ahead.

``CREATE DATABASE ... TEMPLATE`` (about 0.1-0.2 s on the 2-core CI host) and the drop afterwards
(about 0.05 s) were paid inside every database test, 2,500 of them. Here a thread clones the next
test's database while the current test runs (mostly waiting on its processes, sockets and the
server), and drops a finished test's database after the test has ended. Each test still gets a
database of its own, a clone of the migrated template nobody has used: only when it is made moved.

A clone made ahead that fails (a test restarting the shared server with ``pg_ctl``,
tests/dispatch/test_processes.py) is made again when it is taken; a drop that fails is tried
again at the session's end, before the server is stopped.

A clone made beside a test is another session on its server: its snapshot holds back the
pruning of dead row versions in every database while it runs, so an update that would find room
on its page by pruning is not HOT. A test that measures that asks for a quiet server
(``quiet_server`` in tests/conftest.py: :meth:`DatabaseClones.quiet`);
tests/dispatch/test_burst_updates_are_hot.py does (session 25 took the clone ahead out for it).
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import asyncpg


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
    """Fresh clones of ``template`` on the server of ``admin_url``, one made ahead in a thread."""

    def __init__(self, admin_url: str, template: str) -> None:
        self._admin_url = admin_url
        self._template = template
        # One thread: clones and drops run one at a time, as they did inside the tests.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-clones")
        self._next: Future[str] | None = None
        self._dropping: list[tuple[str, Future[None]]] = []

    def _create(self) -> str:
        name = f"medremind_test_{uuid.uuid4().hex[:12]}"
        statement = f'create database "{name}" template "{self._template}"'
        asyncio.run(execute_on(self._admin_url, statement))
        return name

    def _drop(self, name: str) -> None:
        asyncio.run(execute_on(self._admin_url, f'drop database if exists "{name}" with (force)'))

    async def take(self) -> str:
        """The name of a new clone for one test; the next one is started at once."""
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
        ahead, the drops): a test that reads what other sessions on the server hold back (a
        ``CREATE DATABASE`` beside it keeps a snapshot that stops dead row versions being pruned)
        runs on a server with nothing else on it. The thread runs one task at a time, in order."""
        await asyncio.wrap_future(self._thread.submit(lambda: None))

    def give_back(self, name: str) -> None:
        """Drop a test's database in the background, after the test."""
        self._dropping = [(n, f) for n, f in self._dropping if not f.done() or f.exception()]
        self._dropping.append((name, self._thread.submit(self._drop, name)))

    def close(self) -> None:
        """Drop the clone made ahead and every database whose drop failed; stop the thread."""
        left: list[str] = []
        if self._next is not None and self._next.exception() is None:
            left.append(self._next.result())
        left += [name for name, dropped in self._dropping if dropped.exception() is not None]
        self._thread.shutdown(wait=True)
        for name in left:
            self._drop(name)
