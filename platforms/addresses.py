"""Whether a host a clinic gave us (a webhook endpoint, its SMTP server) is outside our network.

Connecting wherever a clinic's admin or API key says would let them probe the service's own
network (the database, metadata endpoints) through our error messages. A host is refused when
any address it resolves to is not global (private, loopback, link-local, reserved), unless the
operator allows it (``MEDREMIND_WEBHOOK_ALLOW_PRIVATE``, for a clinic's LAN). Resolved at each
use, so a name that later resolves inside the network is refused too; and
:class:`PublicResolver` checks the very addresses an HTTP client then connects to, so a name
that resolves outside at the check and inside at the connection (DNS rebinding) is refused too.
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


async def refused_host(host: str, allow_private: bool) -> str | None:
    """Why ``host`` may not be connected to, or None."""
    if allow_private:
        return None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return f"cannot resolve {host}"
    if any(is_private(str(info[4][0])) for info in infos):
        return "the address is private, loopback or link-local"
    return None


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


__all__ = ["PublicResolver", "is_private", "refused_host"]
