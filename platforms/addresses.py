"""Whether a host a clinic gave us (a webhook endpoint, its SMTP server) is outside our network.

Connecting wherever a clinic's admin or API key says would let them probe the service's own
network (the database, metadata endpoints) through our error messages. A host is refused when
any address it resolves to is not global (private, loopback, link-local, reserved), unless the
operator allows it (``MEDREMIND_WEBHOOK_ALLOW_PRIVATE``, for a clinic's LAN). Resolved at each
use, so a name that later resolves inside the network is refused too; and
:class:`PublicResolver` checks the very addresses an HTTP client then connects to, so a name
that resolves outside at the check and inside at the connection (DNS rebinding) is refused too.
Clients that take a connected socket (SMTP) are given one by :func:`connect_checked`, connected
to an address resolved once and checked.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver


def is_private(address: str) -> bool:
    """True for an address that is not globally routable."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return not ip.is_global


class RefusedHost(OSError):
    """``host`` may not be connected to: ``reason`` says why (no secret, no address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPERM, reason)
        self.reason = reason


async def refused_host(host: str, allow_private: bool) -> str | None:
    """Why ``host`` may not be connected to, or None."""
    if allow_private:
        return None
    try:
        await checked_addresses(host, None, allow_private=False)
    except RefusedHost as exc:
        return exc.reason
    return None


async def checked_addresses(
    host: str, port: int | None, *, allow_private: bool
) -> list[tuple[Any, ...]]:
    """``host``'s addresses (``getaddrinfo`` tuples), resolved once; :class:`RefusedHost` when it
    does not resolve, or (unless ``allow_private``) when any address is not global."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise RefusedHost(f"cannot resolve {host}") from None
    if not infos:
        raise RefusedHost(f"cannot resolve {host}")
    if not allow_private and any(is_private(str(info[4][0])) for info in infos):
        raise RefusedHost("the address is private, loopback or link-local")
    return list(infos)


async def connect_checked(
    host: str, port: int, *, allow_private: bool, wait_seconds: float
) -> socket.socket:
    """A TCP socket connected to one of the addresses ``host`` resolved to when it was checked
    (:func:`checked_addresses`), tried in order within ``wait_seconds``.

    For clients that take a connected socket (aiosmtplib's ``sock``): resolving again to
    connect would let a name answer a public address to the check and an inside one to the
    connection (DNS rebinding). :class:`RefusedHost` when the host is refused, else the last
    connection error (``OSError``, ``TimeoutError``).
    """
    loop = asyncio.get_running_loop()
    infos = await checked_addresses(host, port, allow_private=allow_private)
    last: OSError = OSError(errno.EHOSTUNREACH, f"cannot connect to {host}")
    async with asyncio.timeout(wait_seconds):
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, address)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
    raise last


class PublicResolver(AbstractResolver):
    """aiohttp's resolver, refusing a name with any address that is not global (unless
    ``allow_private``): what it returns is what the client connects to."""

    def __init__(self, allow_private: bool = False) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[Any]:
        """``host``'s addresses; OSError when one of them is private."""
        found = await self._inner.resolve(host, port, family)
        if not self._allow_private and any(is_private(r["host"]) for r in found):
            # (errno, text): aiohttp quotes the text in its connection error.
            raise OSError(errno.EPERM, "the address is private, loopback or link-local")
        return list(found)

    async def close(self) -> None:
        """Close the resolver it wraps."""
        await self._inner.close()


__all__ = [
    "PublicResolver",
    "RefusedHost",
    "checked_addresses",
    "connect_checked",
    "is_private",
    "refused_host",
]
