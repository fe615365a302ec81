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

Modules: ``errors`` (below), ``parser`` (one response from bytes, no I/O), ``connection`` (an
asyncio ``Protocol`` per connection; timeouts as loop timers), ``pool`` (per origin: size limit,
waiters), ``client`` (:class:`HTTPClient`).

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

from platforms.http11.client import DEFAULT_KEEPALIVE_EXPIRY, HTTPClient
from platforms.http11.connection import Timeouts
from platforms.http11.errors import (
    ClientClosed,
    ConnectError,
    ConnectTimeout,
    HTTPClientError,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    Timeout,
    TransportError,
    WriteTimeout,
)
from platforms.http11.parser import Response

__all__ = [
    "DEFAULT_KEEPALIVE_EXPIRY",
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
