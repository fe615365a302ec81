"""Each test's fresh database, cloned from the worker's migrated template when the test takes it,
and dropped in a thread after the test has ended. ``DROP DATABASE`` (about 0.05 s on the 2-core
CI host) was paid inside every database test, 2,500 of them; the clone is still made when the
test starts (below, why not ahead). Each test gets a database of its own, a clone of the
migrated template nobody has used. A drop that fails is tried again at the session's end, before
the server is stopped.

Not made ahead: a clone made in the thread while the test before ran (``CREATE DATABASE ...
TEMPLATE`` beside the test's statements on the same server) kept that test's claim's dead row
versions on their pages, and 15 of the record's 120 updates in
tests/dispatch/test_burst_updates_are_hot.py were not HOT (every run once the record started a
second after the claim; in CI under load without that wait). A test's database must behave as a
server with nothing else on it.
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
    """Fresh clones of ``template`` on the server of ``admin_url``, dropped in a thread."""

    def __init__(self, admin_url: str, template: str) -> None:
        self._admin_url = admin_url
        self._template = template
        # One thread: clones and drops run one at a time, as they did inside the tests.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-clones")
        self._dropping: list[tuple[str, Future[None]]] = []

    def _create(self) -> str:
        name = f"medremind_test_{uuid.uuid4().hex[:12]}"
        statement = f'create database "{name}" template "{self._template}"'
        asyncio.run(execute_on(self._admin_url, statement))
        return name

    def _drop(self, name: str) -> None:
        asyncio.run(execute_on(self._admin_url, f'drop database if exists "{name}" with (force)'))

    async def take(self) -> str:
        """The name of a new clone for one test (made in the thread, after any drop before it)."""
        return await asyncio.wrap_future(self._thread.submit(self._create))

    def give_back(self, name: str) -> None:
        """Drop a test's database in the background, after the test."""
        self._dropping = [(n, f) for n, f in self._dropping if not f.done() or f.exception()]
        self._dropping.append((name, self._thread.submit(self._drop, name)))

    def close(self) -> None:
        """Drop every database whose drop failed; stop the thread."""
        left = [name for name, dropped in self._dropping if dropped.exception() is not None]
        self._thread.shutdown(wait=True)
        for name in left:
            self._drop(name)
