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

# IPv6 prefixes that carry an IPv4 address in their last 32 bits and that the host, or a gateway
# of its network, turns into that IPv4 address: NAT64's well-known prefix (RFC 6052) and its
# local-use one (RFC 8215), and the deprecated IPv4-compatible addresses (::a.b.c.d). Python 3.11
# calls them global whatever IPv4 address they carry: on an IPv6-only host behind NAT64 (a cloud
# VPC's NAT gateway) 64:ff9b::a9fe:a9fe is the metadata service and 64:ff9b::a00:5 a private host.
_IPV4_IN_LAST_32_BITS = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)
# Site-local (deprecated, RFC 3879) is a private network's range; Python calls it global.
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64), or None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's own address (the server's is public by definition)
    if any(ip in network for network in _IPV4_IN_LAST_32_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def bare_host(host: str) -> str:
    """The host to connect to: an IP address written in brackets (``[2001:db8::1]``, as in a
    URL or an SMTP address literal) without them, else ``host`` as given. The resolver and the
    socket take the bare address; with the brackets every send failed ("cannot resolve")."""
    if host.startswith("[") and host.endswith("]"):
        try:
            return str(ipaddress.ip_address(host[1:-1]))
        except ValueError:
            return host
    return host


def is_private(address: str) -> bool:
    """True for an address that a clinic's endpoint may not be: one that is not globally
    routable, an IPv6 address standing for an IPv4 one that is not (NAT64, 6to4, Teredo,
    IPv4-mapped or -compatible), site-local, or multicast (no endpoint listens there)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global or ip.is_multicast:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _SITE_LOCAL:
            return True
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return not embedded.is_global or embedded.is_multicast
    return False


class RefusedHost(OSError):
    """``host`` may not be connected to: ``reason`` says why (no secret, no address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPERM, reason)
        self.reason = reason


async def refused_host(host: str, allow_private: bool, *, wait_seconds: float) -> str | None:
    """Why ``host`` may not be connected to, or None; a name not resolved within
    ``wait_seconds`` is refused (:func:`checked_addresses`)."""
    if allow_private:
        return None
    try:
        await checked_addresses(host, None, allow_private=False, wait_seconds=wait_seconds)
    except RefusedHost as exc:
        return exc.reason
    return None


async def checked_addresses(
    host: str, port: int | None, *, allow_private: bool, wait_seconds: float
) -> list[tuple[Any, ...]]:
    """``host``'s addresses (``getaddrinfo`` tuples), resolved once; :class:`RefusedHost` when it
    does not resolve within ``wait_seconds``, or (unless ``allow_private``) when any address is
    not global.

    The bound is ours: the system resolver's own (its timeout times its attempts times the name
    servers, 30 s and more) held a webhook attempt's slot, or an SMTP send, past its timeout.
    The lookup's thread is left to finish; only the caller stops waiting for it.
    """
    try:
        async with asyncio.timeout(wait_seconds):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except TimeoutError:
        raise RefusedHost(f"cannot resolve {host} within {wait_seconds:g} s") from None
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
    (:func:`checked_addresses`), tried in order; the lookup and the connections within
    ``wait_seconds`` in all.

    For clients that take a connected socket (aiosmtplib's ``sock``): resolving again to
    connect would let a name answer a public address to the check and an inside one to the
    connection (DNS rebinding). :class:`RefusedHost` when the host is refused, else the last
    connection error (``OSError``, ``TimeoutError``).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds  # for the lookup and the connections together
    infos = await checked_addresses(
        host, port, allow_private=allow_private, wait_seconds=wait_seconds
    )
    last: OSError = OSError(errno.EHOSTUNREACH, f"cannot connect to {host}")
    async with asyncio.timeout_at(deadline):
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
    "bare_host",
    "checked_addresses",
    "connect_checked",
    "is_private",
    "refused_host",
]
