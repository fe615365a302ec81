"""Keep-alive connections to one origin: at most ``size``, then first-come waiters.

A request takes an idle connection (the most recently used first, so the rest age out), or opens
one while fewer than ``size`` exist, or waits. A finished request hands its connection straight
to the first waiter; a connection that closed hands over its slot instead (the waiter opens a
new one). The pool walks no lists per request: idle connections are a stack, waiters a queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque

from platforms.http11.connection import Connection, Timeouts
from platforms.http11.errors import ClientClosed, ConnectError, ConnectTimeout, PoolTimeout

_SLOT = object()  # handed to a waiter: "a connection closed; you may open a new one"


class Pool:
    """The connections to ``host:port`` (TLS when ``ssl_context`` is given)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        size: int,
        ssl_context: ssl.SSLContext | None,
        keepalive_expiry: float,
    ) -> None:
        self._host = host
        self._port = port
        self._size = size
        self._ssl = ssl_context
        self._expiry = keepalive_expiry
        self._idle: list[Connection] = []
        self._count = 0  # open or opening connections, idle or busy
        self._waiters: deque[asyncio.Future[object]] = deque()
        self._all: set[Connection] = set()
        self._closed = False

    async def acquire(self, timeouts: Timeouts) -> Connection:
        """A connection ready for one request; :meth:`release` it afterwards."""
        loop = asyncio.get_running_loop()
        idle = self._idle
        if idle:
            now = loop.time()
            while idle:
                connection = idle.pop()
                if connection.usable(now, self._expiry):
                    return connection
                self._discard(connection, wake=False)
        if self._count < self._size:
            self._count += 1
        else:
            got = await self._wait(loop, timeouts.pool)
            if isinstance(got, Connection):
                if got.reusable:
                    return got
                # It closed while handed over (nothing written on it yet): take over its slot.
                got.close()
                self._all.discard(got)
        # We hold a slot: open a connection in it.
        try:
            return await self._connect(loop, timeouts.connect)
        except BaseException:
            self._count -= 1
            self._wake()
            raise

    def release(self, connection: Connection) -> None:
        """Take a connection back after its request: keep it, or close it and free its slot."""
        if connection.reusable and not self._closed:
            connection.idle_since = connection.loop.time()
            self._give_back(connection)
        else:
            self._discard(connection, wake=True)

    def close(self) -> None:
        """Close every connection; requests in flight and waiters fail with ClientClosed."""
        self._closed = True
        for connection in list(self._all):
            connection.close(ClientClosed("the HTTP client was closed"))
        self._all.clear()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ClientClosed("the HTTP client was closed"))

    async def _wait(self, loop: asyncio.AbstractEventLoop, limit: float | None) -> object:
        waiter: asyncio.Future[object] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(limit, _expire, waiter, limit) if limit is not None else None
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(waiter.result())  # handed over just as we were cancelled
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if not waiter.done():
                waiter.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    async def _connect(self, loop: asyncio.AbstractEventLoop, limit: float | None) -> Connection:
        # None for both is asyncio's default: plain TCP.
        server_hostname = self._host if self._ssl is not None else None
        try:
            async with asyncio.timeout(limit):
                _, connection = await loop.create_connection(
                    lambda: Connection(loop),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=server_hostname,
                )
        except TimeoutError:
            raise ConnectTimeout(f"no connection within {limit} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"{type(exc).__name__}: {exc}") from exc
        self._all.add(connection)
        return connection

    def _give_back(self, got: object) -> None:
        if got is _SLOT:
            self._count -= 1
            self._wake()
            return
        assert isinstance(got, Connection)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(got)
                return
        self._idle.append(got)

    def _discard(self, connection: Connection, *, wake: bool) -> None:
        connection.close()
        self._all.discard(connection)
        self._count -= 1
        if wake:
            self._wake()

    def _wake(self) -> None:
        # A slot is free: the first waiter may open a connection in it.
        while self._waiters and self._count < self._size:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._count += 1
                waiter.set_result(_SLOT)


def _expire(waiter: asyncio.Future[object], limit: float) -> None:
    if not waiter.done():
        waiter.set_exception(
            PoolTimeout(f"no free connection within {limit} s; the request was not sent")
        )
