"""A loopback HTTP forward proxy: takes absolute-form requests, records them, relays them.

Enough of RFC 9112's proxying for the loopback fakes (plain ``http`` origins): one request per
client connection, relayed upstream with ``Connection: close`` and the whole answer written back.
"""

from __future__ import annotations

import asyncio


class ForwardProxy:
    """``async with ForwardProxy() as url``: ``requests`` holds ``"METHOD absolute-url"`` lines."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.authorizations: list[str | None] = []  # each request's Proxy-Authorization
        self.server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            self.requests.append(f"{method} {target}")
            fields = [line for line in lines[1:] if line]
            self.authorizations.append(
                next(
                    (
                        f.split(":", 1)[1].strip()
                        for f in fields
                        if f.lower().startswith("proxy-authorization:")
                    ),
                    None,
                )
            )
            headers = [f for f in fields if not f.lower().startswith(("connection", "proxy-"))]
            length = next(
                (
                    int(h.split(":", 1)[1])
                    for h in headers
                    if h.lower().startswith("content-length")
                ),
                0,
            )
            body = await reader.readexactly(length)
            origin = target.split("://", 1)[1]
            host, _, path = origin.partition("/")
            hostname, port = host.split(":")
            up_reader, up_writer = await asyncio.open_connection(hostname, int(port))
            request = "\r\n".join([f"{method} /{path} {version}", *headers, "Connection: close"])
            up_writer.write(request.encode("latin-1") + b"\r\n\r\n" + body)
            await up_writer.drain()
            writer.write(await up_reader.read())  # the whole answer: upstream closes after it
            await writer.drain()
            up_writer.close()
        finally:
            writer.close()
