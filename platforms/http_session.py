"""Outbound HTTP for the provider adapters: one aiohttp ``ClientSession`` per adapter.

aiohttp's client (C-accelerated HTTP parser, keep-alive connection pool, TLS, proxies) carries
every Bot API, Twilio REST and Twilio Content API call. :class:`HttpSession` wraps one
``ClientSession`` with what the adapters share:

- opened lazily, inside the running event loop (aiohttp binds a session to one loop), and opened
  again after :meth:`HttpSession.aclose` (PTB's ``Application`` shuts a ``Bot`` down and may
  initialize it again);
- a connection pool of ``pool_size`` (the worker's concurrency: requests beyond it wait for a
  free connection, up to the pool timeout);
- TLS verified against certifi's CA bundle, as httpx and the twilio SDK's requests client do;
- a proxy taken from ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` and ``NO_PROXY``, read as
  urllib reads them, decided once per origin. aiohttp's own ``trust_env`` reads the environment
  again on every request, in a worker thread: CPU on the hot path for an answer that never changes.

Errors are aiohttp's (``aiohttp.ClientError``; timeouts are ``asyncio.TimeoutError``, so
``TimeoutError``): each adapter maps them onto its own table at its edge.
"""

from __future__ import annotations

import base64
import ssl
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from multidict import CIMultiDictProxy
from yarl import URL


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds for each phase of one exchange; ``None`` waits forever.

    ``pool``: waiting for a free connection; ``connect``: making a new one (TCP and TLS);
    ``write``: sending the request; ``read``: the longest silence while reading the answer.
    """

    connect: float | None = 10.0
    read: float | None = 10.0
    write: float | None = 10.0
    pool: float | None = 10.0

    def client_timeout(self) -> aiohttp.ClientTimeout:
        """The same limits as aiohttp's ``ClientTimeout``.

        aiohttp's ``connect`` covers waiting for a pooled connection plus making one,
        ``sock_connect`` making one and ``sock_read`` the gap between reads. aiohttp has no write
        timeout: ``total`` bounds the whole exchange by the sum of the four, so a peer that never
        reads (or trickles its answer) cannot hold a request forever.
        """
        phases = (self.pool, self.connect, self.write, self.read)
        total = None if None in phases else sum(p for p in phases if p is not None)
        connect = None if self.pool is None or self.connect is None else self.pool + self.connect
        return aiohttp.ClientTimeout(
            total=total, connect=connect, sock_connect=self.connect, sock_read=self.read
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole HTTP answer: status, headers and body, whatever the status."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Proxy:
    url: URL
    headers: dict[str, str] | None  # Proxy-Authorization from credentials in the proxy URL


_CA_CONTEXT: ssl.SSLContext | None = None
_MAX_PARSED_URLS = 256  # parsed URLs kept per session (Bot API methods, Twilio resources)


def ca_context() -> ssl.SSLContext:
    """One verifying TLS context on certifi's CA bundle, shared by every session."""
    global _CA_CONTEXT
    if _CA_CONTEXT is None:
        _CA_CONTEXT = ssl.create_default_context(cafile=certifi.where())
    return _CA_CONTEXT


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def proxy_from_environment(url: str) -> str | None:
    """The proxy the environment names for ``url`` (urllib's reading), or ``None``.

    ``HTTPS_PROXY``/``HTTP_PROXY`` by the URL's scheme, else ``ALL_PROXY``; ``NO_PROXY`` exempts.
    """
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


class HttpSession:
    """One pooled aiohttp ``ClientSession`` for one adapter; see the module docstring."""

    __slots__ = ("_headers", "_pool_size", "_proxies", "_session", "_urls", "timeouts")

    def __init__(
        self,
        *,
        pool_size: int,
        timeouts: Timeouts | None = None,
        user_agent: str | None = None,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._pool_size = pool_size
        self.timeouts = timeouts or Timeouts()
        self._headers = {"User-Agent": user_agent} if user_agent else {}
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, _Proxy | None] = {}  # origin -> its proxy, read once
        self._urls: dict[str, URL] = {}

    @property
    def pool_size(self) -> int:
        """The most connections open at once (per session, over all hosts)."""
        return self._pool_size

    def _open(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, limit_per_host=0, ssl=ca_context()
            )
            session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=self.timeouts.client_timeout(),
                trust_env=False,  # the proxy is chosen once per origin in _proxy_for
                cookie_jar=aiohttp.DummyCookieJar(),  # an API client keeps no cookies
                auto_decompress=True,
            )
            self._session = session
        return session

    def _parsed(self, url: str) -> URL:
        # Adapters call a handful of URLs (one per Bot API method) over and over: parse each once.
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _MAX_PARSED_URLS:
                self._urls.clear()
            parsed = self._urls[url] = URL(url)
        return parsed

    def _proxy_for(self, url: str) -> _Proxy | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin in self._proxies:
            return self._proxies[origin]
        named = proxy_from_environment(url)
        chosen = None
        if named:
            proxy = URL(named)
            headers = None
            if proxy.user is not None:
                credentials = basic_auth(proxy.user, proxy.password or "")
                headers = {"Proxy-Authorization": credentials}
                proxy = proxy.with_user(None)
            chosen = _Proxy(proxy, headers)
        self._proxies[origin] = chosen
        return chosen

    async def request(
        self,
        method: str,
        url: str,
        *,
        data: bytes | aiohttp.FormData | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeouts: Timeouts | None = None,
        allow_redirects: bool = False,
    ) -> Answer:
        """Send one request and read its whole answer (any status).

        ``auth`` is ``(user, password)`` for HTTP Basic authentication. Raises ``TimeoutError``
        (aiohttp's timeouts are ones) or ``aiohttp.ClientError``.
        """
        if auth is not None:
            headers = {**(headers or {}), "Authorization": basic_auth(*auth)}
        proxy = self._proxy_for(url)
        extra: dict[str, Any] = {}
        if proxy is not None:
            extra["proxy"] = proxy.url
            if proxy.headers and url.startswith("https:"):
                extra["proxy_headers"] = proxy.headers  # on the CONNECT request
            elif proxy.headers:
                # A plain-http request goes to the proxy itself; aiohttp sends proxy_headers on
                # CONNECT only, so the credentials ride on the request.
                headers = {**(headers or {}), **proxy.headers}
        if timeouts is not None and timeouts != self.timeouts:
            extra["timeout"] = timeouts.client_timeout()
        async with self._open().request(
            method,
            self._parsed(url),
            data=data,
            headers=headers,
            allow_redirects=allow_redirects,
            **extra,
        ) as response:
            body = await response.read()
            return Answer(response.status, response.headers, body)

    @property
    def closed(self) -> bool:
        """True when no session is open (never opened, or closed)."""
        return self._session is None or self._session.closed

    async def aclose(self) -> None:
        """Close the session and its connections; safe to call twice; reopens on next use."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


__all__ = [
    "Answer",
    "HttpSession",
    "Timeouts",
    "basic_auth",
    "ca_context",
    "proxy_from_environment",
]
