"""A process that starts while PostgreSQL cannot take connections waits for it, for a while.

A worker started during a PostgreSQL restart died with CannotConnectNowError ("the database
system is shutting down", found by tests/dispatch/test_processes.py under load): the long-running
processes now retry opening their pool for ``MEDREMIND_DB_STARTUP_WAIT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest

from core.db import Database
from core.settings import Settings
from tests.ports import free_port


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def _proxy(port: int, database_url: str) -> AsyncIterator[None]:
    """A TCP port on 127.0.0.1 that forwards to the test's server (its socket or host:port)."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or "localhost"
    server_port = int(query.get("port") or parts.port or 5432)

    async def forward(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if host.startswith("/"):
            server_r, server_w = await asyncio.open_unix_connection(
                f"{host}/.s.PGSQL.{server_port}"
            )
        else:
            server_r, server_w = await asyncio.open_connection(host, server_port)
        await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))

    server = await asyncio.start_server(forward, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


def _through(port: int, database_url: str) -> str:
    """``database_url`` by TCP to 127.0.0.1:``port`` (its user, password and database)."""
    parts = urlsplit(database_url)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(("postgresql", f"{auth}127.0.0.1:{port}", parts.path, "", ""))


async def test_a_pool_opened_while_the_server_is_unreachable_waits_for_it(
    settings: Settings, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    database = Database(settings, url=_through(port, database_url), startup_wait_seconds=30)
    with caplog.at_level(logging.WARNING, logger="core.db"):
        starting = asyncio.create_task(database.start())
        await asyncio.sleep(1.5)  # refused meanwhile: nothing listens on the port yet
        assert not starting.done()
        async with _proxy(port, database_url):
            await asyncio.wait_for(starting, 30)
            try:
                assert database.pool is not None
                assert await database.pool.fetchval("select current_user") == settings.db_role
            finally:
                await database.stop()
    waits = [r for r in caplog.records if r.getMessage().startswith("database unavailable")]
    assert waits, "each failed try is logged"
    # The error's type only: no address, host or data directory.
    assert {getattr(r, "error", None) for r in waits} <= {"ConnectionRefusedError", "OSError"}
    assert all(str(port) not in r.getMessage() for r in waits)


async def test_without_a_wait_an_unreachable_server_fails_at_once(
    settings: Settings, database_url: str
) -> None:
    database = Database(settings, url=_through(free_port(), database_url))
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(OSError):
        await database.start()
    assert loop.time() - began < 10
    assert database.pool is None


async def test_a_wrong_password_is_not_waited_for(settings: Settings, database_url: str) -> None:
    """Only an unavailable server is worth another try: a refused login fails at once."""
    port = free_port()
    parts = urlsplit(_through(port, database_url))
    wrong = urlunsplit(parts._replace(netloc=f"no_such_role:x@127.0.0.1:{port}"))
    database = Database(settings, url=wrong, startup_wait_seconds=60)
    async with _proxy(port, database_url):
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(Exception) as refused:
            await database.start()
        assert not isinstance(refused.value, OSError)
        assert loop.time() - began < 10
