"""A lean HTTP/1.1 client on asyncio for one job: many small requests to a few origins.

Why not httpx: with 64 requests in flight, httpx plus httpcore cost over 1 ms of CPU per Bot API
call here (pool bookkeeping that walks every connection and waiter on each request, several
layers of streams and events). This client does what the Bot API needs and no more: a keep-alive
pool per origin with a size limit and first-come waiters, ``http`` and ``https``, a
``Content-Length`` request body, responses framed by ``Content-Length``, ``chunked`` or the
connection's end, and connect / write / read / pool timeouts. No redirects, proxies, cookies,
compression, pipelining or HTTP/2.

A POST is never retried once its first byte may have reached the server. An idle connection is
checked before reuse (the server may have closed it while it sat in the pool): a connection the
loop saw close, one whose socket is readable (EOF or stray bytes), or one idle longer than
``keepalive_expiry`` is dropped and the next one (or a fresh one) is used instead.

Errors, sorted by whether the request may have reached the server::

    HTTPClientError
    ├── Timeout
    │   ├── PoolTimeout          no connection free in time: nothing was sent
    │   ├── ConnectTimeout       nothing was sent
    │   ├── WriteTimeout         may have been sent
    │   └── ReadTimeout          was sent; no (complete) answer in time
    └── TransportError
        ├── ConnectError         nothing was sent
        ├── RemoteProtocolError  the server closed early or answered something that is not HTTP
        └── ClientClosed         the client was closed
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

DEFAULT_KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection may be reused (httpx's default too)
_MAX_HEAD = 64 * 1024  # a response head larger than this is not a Bot API answer
_MAX_BODY = 64 * 1024 * 1024  # file downloads from the Bot API are capped at 20 MB
_NO_BODY_STATUSES = frozenset({204, 304})


# -- errors -------------------------------------------------------------------------------------


class HTTPClientError(Exception):
    """Base of this module's errors; ``sent`` says whether the request may have left us."""

    sent = False


class Timeout(HTTPClientError):
    """A timeout of any phase."""


class PoolTimeout(Timeout):
    """Every connection of the origin stayed busy for the pool timeout; nothing was sent."""


class ConnectTimeout(Timeout):
    """The TCP (or TLS) connection was not established in time; nothing was sent."""


class WriteTimeout(Timeout):
    """The request could not be written in time; part of it may have been sent."""

    sent = True


class ReadTimeout(Timeout):
    """The server sent nothing for the read timeout while we waited for the response."""

    sent = True


class TransportError(HTTPClientError):
    """The connection failed or the server broke the protocol."""


class ConnectError(TransportError):
    """The connection could not be made (refused, unreachable, TLS failure)."""


class RemoteProtocolError(TransportError):
    """The server closed the connection early or answered with something that is not HTTP/1.1."""

    sent = True


class ClientClosed(TransportError):
    """The client was closed before or while the request ran."""


# -- public records ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds per phase; ``None`` waits forever."""

    connect: float | None = 10.0
    read: float | None = 10.0
    write: float | None = 10.0
    pool: float | None = 10.0


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response: status, headers (names lower case; repeats joined by ``, ``), body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    host_header: str


@lru_cache(maxsize=256)
def _target(url: str) -> _Target:
    # Cached: a bot calls a handful of URLs over and over.
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r}")
    host = parts.hostname
    if not host:
        raise ValueError("URL has no host")
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    return _Target(scheme, host, port, path, host_header)


# -- one connection ------------------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: writes a request, parses one response at a time.

    Parsing happens in ``data_received`` (no stream layers); the waiting request gets the whole
    response through one future.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Response] | None = None
        self._head_request = False
        self._status = 0
        self._headers: dict[str, str] | None = None
        self._framing = ""  # "length", "chunked" or "close"
        self._remaining = 0
        self._body = bytearray()
        self._reusable = True
        self._last_data = 0.0
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._drained: asyncio.Future[None] | None = None
        self._paused = False

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Without it, Nagle plus the peer's delayed ACK can hold a small write for ~40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Bytes while idle: not an answer to anything; this connection cannot be trusted.
            self._reusable = False
            self._close()
            return
        self._last_data = self._loop.time()
        self._buffer += data
        try:
            self._parse()
        except RemoteProtocolError as exc:
            self._fail(exc)

    def eof_received(self) -> bool | None:
        if self._waiter is not None and self._framing == "close" and self._headers is not None:
            self._body += self._buffer
            self._buffer.clear()
            self._reusable = False
            self._finish()
        return None  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        if self._waiter is not None and not self._waiter.done():
            if self._framing == "close" and self._headers is not None:
                self._body += self._buffer
                self._reusable = False
                self._finish()
            else:
                detail = f": {exc}" if exc else ""
                self._fail(
                    RemoteProtocolError(
                        f"server disconnected without sending a complete response{detail}"
                    )
                )
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # request side

    def usable(self, now: float, expiry: float) -> bool:
        """Whether this idle connection can carry the next request (checked before writing)."""
        transport = self.transport
        if self.closed or transport is None or transport.is_closing() or not self._reusable:
            return False
        if now - self.idle_since > expiry:
            return False
        # The server may have closed the connection since the loop last polled its socket: a
        # readable idle socket means EOF or stray bytes, so it must not carry a POST.
        sock = transport.get_extra_info("socket")
        if sock is None:
            return True
        try:
            poller = select.poll()
            poller.register(sock.fileno(), select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    async def send(self, data: bytes, *, head_request: bool, timeouts: Timeouts) -> Response:
        """Write one request and wait for its response."""
        transport = self.transport
        if transport is None or self.closed:
            raise RemoteProtocolError("connection closed before the request was written")
        waiter: asyncio.Future[Response] = self._loop.create_future()
        self._waiter = waiter
        self._head_request = head_request
        self._status = 0
        self._headers = None
        self._framing = ""
        self._body = bytearray()
        try:
            transport.write(data)
            if self._paused:
                await self._drain(timeouts.write)
            self._read_timeout = timeouts.read
            self._last_data = self._loop.time()
            if timeouts.read is not None and not waiter.done():
                self._timer = self._loop.call_later(timeouts.read, self._check_read_timeout)
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
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    async def _drain(self, limit: float | None) -> None:
        self._drained = self._loop.create_future()
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
        quiet = self._loop.time() - self._last_data
        if quiet < limit:
            self._timer = self._loop.call_later(limit - quiet, self._check_read_timeout)
            return
        self._fail(ReadTimeout(f"no response data within {limit} s"))

    # response side

    def _parse(self) -> None:
        buffer = self._buffer
        while True:
            if self._headers is None:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > _MAX_HEAD:
                        raise RemoteProtocolError("response head too large")
                    return
                self._parse_head(bytes(buffer[:end]))
                del buffer[: end + 4]
                if self._headers is None:
                    continue  # an interim 1xx response; the real one follows
            if self._framing == "length":
                take = min(self._remaining, len(buffer))
                if take:
                    self._body += buffer[:take]
                    del buffer[:take]
                    self._remaining -= take
                if self._remaining == 0:
                    self._finish()
                return
            if self._framing == "chunked":
                if self._parse_chunks():
                    self._finish()
                return
            # "close": the body is everything until the server closes the connection.
            self._body += buffer
            buffer.clear()
            if len(self._body) > _MAX_BODY:
                raise RemoteProtocolError("response body too large")
            return

    def _parse_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise RemoteProtocolError("malformed status line")
        status = int(code)
        if 100 <= status < 200:
            return  # 100 Continue and friends; we never asked, but they are legal
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise RemoteProtocolError("malformed header line")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self._status = status
        self._headers = headers
        connection = headers.get("connection", "").lower()
        if "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection):
            self._reusable = False
        if self._head_request or status in _NO_BODY_STATUSES:
            self._framing, self._remaining = "length", 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._framing = "chunked"
            self._remaining = -1  # expecting a chunk-size line
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"].split(",")[0])
            except ValueError:
                raise RemoteProtocolError("malformed Content-Length") from None
            if length < 0 or length > _MAX_BODY:
                raise RemoteProtocolError("unacceptable Content-Length")
            self._framing, self._remaining = "length", length
        else:
            self._framing = "close"
            self._reusable = False

    def _parse_chunks(self) -> bool:
        """Consume chunked data from the buffer; ``True`` once the last chunk and trailers are in.

        ``_remaining``: -1 waiting for a size line, >0 bytes of chunk data left, -2 waiting for the
        CRLF after a chunk's data, -3 reading trailers after the last (zero-size) chunk.
        """
        buffer = self._buffer
        while True:
            if self._remaining == -1:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > _MAX_HEAD:
                        raise RemoteProtocolError("chunk size line too long")
                    return False
                size_text = bytes(buffer[:end]).split(b";", 1)[0].strip()
                del buffer[: end + 2]
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise RemoteProtocolError("malformed chunk size") from None
                if size < 0 or len(self._body) + size > _MAX_BODY:
                    raise RemoteProtocolError("unacceptable chunk size")
                self._remaining = size if size else -3
            elif self._remaining > 0:
                take = min(self._remaining, len(buffer))
                if not take:
                    return False
                self._body += buffer[:take]
                del buffer[:take]
                self._remaining -= take
                if self._remaining == 0:
                    self._remaining = -2
            elif self._remaining == -2:
                if len(buffer) < 2:
                    return False
                if buffer[:2] != b"\r\n":
                    raise RemoteProtocolError("chunk data not followed by CRLF")
                del buffer[:2]
                self._remaining = -1
            else:  # -3: trailer lines until an empty one
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > _MAX_HEAD:
                        raise RemoteProtocolError("trailers too large")
                    return False
                del buffer[: end + 2]
                if end == 0:
                    return True

    def _finish(self) -> None:
        waiter = self._waiter
        if self._buffer:
            self._reusable = False  # bytes beyond the response: we do not pipeline
        self._waiter = None  # later bytes are not part of this response
        if waiter is not None and not waiter.done():
            assert self._headers is not None
            waiter.set_result(Response(self._status, self._headers, bytes(self._body)))
        if not self._reusable:
            self._close()

    def _fail(self, exc: HTTPClientError) -> None:
        self._reusable = False
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self._close()

    @property
    def reusable(self) -> bool:
        return self._reusable and not self.closed

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def close(self, reason: HTTPClientError | None = None) -> None:
        """Close the connection now; a request in flight fails with ``reason``."""
        if reason is not None:
            self._fail(reason)
        self._reusable = False
        self._close()


# -- the pool ------------------------------------------------------------------------------------


_SLOT = object()  # handed to a waiter: "a connection closed; you may open a new one"


class _Pool:
    """Connections to one origin: at most ``size``, idle ones reused last-in first-out."""

    def __init__(
        self, target: _Target, size: int, ssl_context: ssl.SSLContext | None, expiry: float
    ) -> None:
        self._target = target
        self._size = size
        self._ssl = ssl_context
        self._expiry = expiry
        self._idle: list[_Connection] = []
        self._count = 0  # open or opening connections, idle or busy
        self._waiters: deque[asyncio.Future[object]] = deque()
        self._all: set[_Connection] = set()
        self._closed = False

    async def acquire(self, timeouts: Timeouts) -> _Connection:
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
            if isinstance(got, _Connection):
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

    async def _wait(self, loop: asyncio.AbstractEventLoop, limit: float | None) -> object:
        waiter: asyncio.Future[object] = loop.create_future()
        self._waiters.append(waiter)
        timer = None
        if limit is not None:
            timer = loop.call_later(limit, _expire, waiter, limit)
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

    async def _connect(self, loop: asyncio.AbstractEventLoop, limit: float | None) -> _Connection:
        target = self._target
        kwargs: dict[str, object] = {}
        if self._ssl is not None:
            kwargs = {"ssl": self._ssl, "server_hostname": target.host}
        try:
            async with asyncio.timeout(limit):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), target.host, target.port, **kwargs
                )
        except TimeoutError:
            raise ConnectTimeout(f"no connection within {limit} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"{type(exc).__name__}: {exc}") from exc
        self._all.add(connection)
        return connection

    def release(self, connection: _Connection) -> None:
        """Return a connection after its request: reuse it, or close it and free its slot."""
        if connection.reusable and not self._closed:
            connection.idle_since = connection._loop.time()
            self._give_back(connection)
        else:
            self._discard(connection, wake=True)

    def _give_back(self, got: object) -> None:
        if got is _SLOT:
            self._count -= 1
            self._wake()
            return
        assert isinstance(got, _Connection)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(got)
                return
        self._idle.append(got)

    def _discard(self, connection: _Connection, *, wake: bool) -> None:
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

    def close(self) -> None:
        self._closed = True
        for connection in list(self._all):
            connection.close(ClientClosed("the HTTP client was closed"))
        self._all.clear()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ClientClosed("the HTTP client was closed"))


def _expire(waiter: asyncio.Future[object], timeout: float) -> None:
    if not waiter.done():
        waiter.set_exception(
            PoolTimeout(f"no free connection within {timeout} s; the request was not sent")
        )


# -- the client ----------------------------------------------------------------------------------


class HTTPClient:
    """Keep-alive HTTP/1.1 requests with a pool of ``pool_size`` connections per origin.

    ``async with HTTPClient() as client: response = await client.request("POST", url, body)``.
    Statuses are returned as they are (a 4xx or 5xx is a :class:`Response`, not an error).
    """

    def __init__(
        self,
        *,
        pool_size: int = 10,
        timeouts: Timeouts | None = None,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str | None = None,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.pool_size = pool_size
        self.timeouts = timeouts or Timeouts()
        self._expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._closed = False
        self._agent = f"User-Agent: {user_agent}\r\n" if user_agent else ""

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._closed

    async def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        timeouts: Timeouts | None = None,
    ) -> Response:
        """Send one request and return the complete response (any status)."""
        if self._closed:
            raise ClientClosed("the HTTP client was closed")
        target = _target(url)
        timeouts = timeouts or self.timeouts
        pool = self._pool(target)
        head = f"{method} {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n{self._agent}"
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        if body or method not in ("GET", "HEAD"):
            head += f"Content-Length: {len(body)}\r\n"
        if headers:
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        data = (head + "\r\n").encode("latin-1") + body
        connection = await pool.acquire(timeouts)
        try:
            return await connection.send(data, head_request=method == "HEAD", timeouts=timeouts)
        finally:
            pool.release(connection)

    def _pool(self, target: _Target) -> _Pool:
        key = (target.scheme, target.host, target.port)
        pool = self._pools.get(key)
        if pool is None:
            context = None
            if target.scheme == "https":
                if self._ssl_context is None:
                    self._ssl_context = ssl.create_default_context()
                context = self._ssl_context
            pool = _Pool(target, self.pool_size, context, self._expiry)
            self._pools[key] = pool
        return pool

    async def aclose(self) -> None:
        """Close every connection; requests in flight fail with :class:`ClientClosed`."""
        if self._closed:
            return
        self._closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        await asyncio.sleep(0)  # let transports run their close callbacks


__all__ = [
    "ClientClosed",
    "ConnectError",
    "ConnectTimeout",
    "HTTPClient",
    "HTTPClientError",
    "PoolTimeout",
    "ReadTimeout",
    "RemoteProtocolError",
    "Response",
    "Timeout",
    "Timeouts",
    "TransportError",
    "WriteTimeout",
]
