"""One HTTP/1.1 connection as an asyncio ``Protocol``: write a request, parse its response.

Parsing happens in ``data_received`` (no stream layers); the waiting request gets the whole
response through one future. Timeouts are timers on the loop, not wrapper tasks.
"""

from __future__ import annotations

import asyncio
import select
import socket
from dataclasses import dataclass

from platforms.http11.errors import (
    HTTPClientError,
    ReadTimeout,
    RemoteProtocolError,
    WriteTimeout,
)
from platforms.http11.parser import Response, ResponseParser


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds per phase; ``None`` waits forever. ``read`` is an inactivity limit."""

    connect: float | None = 10.0
    read: float | None = 10.0
    write: float | None = 10.0
    pool: float | None = 10.0


class Connection(asyncio.Protocol):
    """A keep-alive connection carrying one request at a time (no pipelining)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._reusable = True
        self._parser: ResponseParser | None = None  # set while a response is awaited
        self._waiter: asyncio.Future[Response] | None = None
        self._last_data = 0.0
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._paused = False
        self._drained: asyncio.Future[None] | None = None

    @property
    def reusable(self) -> bool:
        """Whether the connection can carry another request after the current one."""
        return self._reusable and not self.closed

    # -- asyncio callbacks --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Without it, Nagle plus the peer's delayed ACK can hold a small write for ~40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            # Bytes while idle answer nothing we asked: this connection cannot be trusted.
            self._reusable = False
            self._close()
            return
        self._last_data = self.loop.time()
        try:
            response = parser.feed(data)
        except RemoteProtocolError as exc:
            self._fail(exc)
            return
        if response is not None:
            self._finish(response, parser)

    def connection_lost(self, exc: Exception | None) -> None:
        # Called after EOF too (eof_received's default lets the transport close).
        self.closed = True
        self.transport = None
        parser = self._parser
        if parser is not None:
            try:
                self._finish(parser.eof(), parser)  # a body framed by the connection's end
            except RemoteProtocolError as error:
                if exc is not None:
                    error = RemoteProtocolError(f"{error}: {exc}")
                self._fail(error)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # -- requests -----------------------------------------------------------------------------

    def usable(self, now: float, expiry: float) -> bool:
        """Whether this idle connection can carry the next request (checked before writing)."""
        transport = self.transport
        if not self.reusable or transport is None or transport.is_closing():
            return False
        if now - self.idle_since > expiry:
            return False
        # The server may have closed the connection since the loop last polled its socket: a
        # readable idle socket means EOF or stray bytes, so it must not carry a POST.
        sock = transport.get_extra_info("socket")
        if sock is None:
            return True
        try:
            return not _readable(sock.fileno())
        except (OSError, ValueError):
            return False

    async def send(self, data: bytes, *, head_request: bool, timeouts: Timeouts) -> Response:
        """Write one request and wait for its whole response."""
        transport = self.transport
        if transport is None or self.closed:
            raise RemoteProtocolError("connection closed before the request was written")
        waiter: asyncio.Future[Response] = self.loop.create_future()
        self._waiter = waiter
        self._parser = ResponseParser(head_request=head_request)
        try:
            transport.write(data)
            if self._paused:
                await self._drain(timeouts.write)
            self._read_timeout = timeouts.read
            self._last_data = self.loop.time()
            if timeouts.read is not None and not waiter.done():
                self._timer = self.loop.call_later(timeouts.read, self._check_read_timeout)
            return await waiter
        except BaseException:
            # Cancelled or failed mid-request: the stream position is unknown, never reuse it.
            self._reusable = False
            self._close()
            if waiter.done() and not waiter.cancelled():
                waiter.exception()  # seen; a write timeout may have left it failed and unawaited
            raise
        finally:
            self._waiter = None
            self._parser = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    async def _drain(self, limit: float | None) -> None:
        self._drained = self.loop.create_future()
        try:
            async with asyncio.timeout(limit):
                await self._drained
        except TimeoutError:
            raise WriteTimeout(f"request not written within {limit} s") from None
        finally:
            self._drained = None

    def _check_read_timeout(self) -> None:
        # One timer per request, pushed back while data keeps arriving (an inactivity timeout,
        # as httpx's read timeout is, so a large download is not cut off while it flows).
        self._timer = None
        waiter, limit = self._waiter, self._read_timeout
        if waiter is None or waiter.done() or limit is None:
            return
        quiet = self.loop.time() - self._last_data
        if quiet < limit:
            self._timer = self.loop.call_later(limit - quiet, self._check_read_timeout)
            return
        self._fail(ReadTimeout(f"no response data within {limit} s"))

    def _finish(self, response: Response, parser: ResponseParser) -> None:
        self._parser = None  # later bytes are not part of this response
        if not parser.keep_alive:
            self._reusable = False
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(response)
        if not self._reusable:
            self._close()

    def _fail(self, exc: HTTPClientError) -> None:
        self._reusable = False
        self._parser = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self._close()

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def close(self, reason: HTTPClientError | None = None) -> None:
        """Close the connection now; a request in flight fails with ``reason``."""
        if reason is not None:
            self._fail(reason)
        self._reusable = False
        self._close()


def _readable(fd: int) -> bool:
    """Whether ``fd`` has data or EOF waiting, without blocking (poll: no FD_SETSIZE limit)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([fd], [], [], 0)  # Windows has no poll
    return bool(readable)
