"""Whether a host a clinic gave us (a webhook endpoint, its SMTP server) is outside our network.

Connecting wherever a clinic's admin or API key says would let them probe the service's own
network (the database, metadata endpoints) through our error messages. A host is refused when
any address it resolves to is not global (private, loopback, link-local, reserved), unless the
operator allows it (``MEDREMIND_WEBHOOK_ALLOW_PRIVATE``, for a clinic's LAN). Resolved at each
use, so a name that later resolves inside the network is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket


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


__all__ = ["is_private", "refused_host"]
