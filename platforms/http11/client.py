"""The client: URLs to per-origin pools, requests to bytes on the wire."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from platforms.http11.connection import Timeouts
from platforms.http11.errors import ClientClosed
from platforms.http11.parser import Response
from platforms.http11.pool import Pool

DEFAULT_KEEPALIVE_EXPIRY = 5.0  # seconds an idle connection may be reused (httpx's default too)


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


def default_ssl_context() -> ssl.SSLContext:
    """Certificate and host name checks against certifi's CA bundle, as httpx did before us.

    The system store is not always populated (slim containers, some Python builds); certifi
    comes with httpx, which python-telegram-bot needs anyway.
    """
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class HTTPClient:
    """Keep-alive HTTP/1.1 requests with a pool of ``pool_size`` connections per origin.

    ``async with HTTPClient() as client: response = await client.request("POST", url, body)``.
    Statuses are returned as they are (a 4xx or 5xx is a :class:`Response`, not an error).
    ``https`` uses ``ssl_context`` or the system's default context (certificates and host names
    verified).
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
        self._pools: dict[tuple[str, str, int], Pool] = {}
        self._closed = False
        self._agent = f"User-Agent: {user_agent}\r\n" if user_agent else ""

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
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
        """Send one request and return the complete response, whatever its status.

        Never retried: an error after the first byte was written may mean the server acted.
        """
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

    def _pool(self, target: _Target) -> Pool:
        key = (target.scheme, target.host, target.port)
        pool = self._pools.get(key)
        if pool is None:
            context = None
            if target.scheme == "https":
                if self._ssl_context is None:
                    self._ssl_context = default_ssl_context()
                context = self._ssl_context
            pool = Pool(
                target.host,
                target.port,
                size=self.pool_size,
                ssl_context=context,
                keepalive_expiry=self._expiry,
            )
            self._pools[key] = pool
        return pool

    async def aclose(self) -> None:
        """Close every connection; requests in flight fail with ``ClientClosed``."""
        if self._closed:
            return
        self._closed = True
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        await asyncio.sleep(0)  # let transports run their close callbacks
