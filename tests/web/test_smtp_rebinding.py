"""A clinic's SMTP server is connected to at the address that was checked, never re-resolved.

A clinic's SMTP host was resolved to check that it is outside our network (not private, loopback
or link-local), and then aiosmtplib resolved it again to connect. A clinic's name server that
answers a public address to the check and 127.0.0.1 to the connection (DNS rebinding) reached a
mail service inside our network: at save time (the check's answer, "saved" or the server's
refusal, came back to the clinic's admin) and at every send from the worker. Now the name is
resolved once, each address checked, and the connection made to that address
(platforms.addresses.connect_checked; the TLS name stays the host's).

Simulated: the name server (``socket.getaddrinfo``, as tests/dispatch/test_webhook_rebinding.py
does) and the route to the public address, which leads to a loopback SMTP server standing for
the clinic's real one (no test reaches the internet). The web app (through its API), the worker's
clinic senders, the database and both SMTP servers are real.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from core.credentials import SecretBox
from core.db import Database
from core.settings import Settings
from platforms.base import Channel, OutboundMessage
from scheduler.clinic_senders import ClinicSenders
from tests.fakes.smtp import SmtpSink

NAME = "mail.rebinding.example"
PUBLIC = "93.184.216.34"


@pytest.fixture
async def internal_mail() -> AsyncIterator[tuple[int, list[str]]]:
    """A mail service inside the network (loopback): its port and the lines it was sent."""
    heard: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heard.append("(connected)")
        writer.write(b"220 internal-relay.corp ESMTP ready\r\n")
        while line := await reader.readline():
            heard.append(line.decode(errors="replace").strip())
            writer.write(b"221 bye\r\n" if line.upper().startswith(b"QUIT") else b"250 ok\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], heard
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def rebinding_network(monkeypatch: pytest.MonkeyPatch) -> Any:
    """DNS answering PUBLIC for NAME once, then 127.0.0.1; PUBLIC routed to the clinic's server
    (set ``route["port"]``). Yields the routing table and the names asked."""
    real_resolve = socket.getaddrinfo
    real_connect = socket.socket.connect
    asked: list[str] = []
    route: dict[str, int] = {}

    def rebinding_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real_resolve(host, *args, **kwargs)
        asked.append(host)
        return real_resolve(PUBLIC if len(asked) == 1 else "127.0.0.1", *args, **kwargs)

    def routed(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] == PUBLIC:
            address = ("127.0.0.1", route["port"])
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    monkeypatch.setattr(socket.socket, "connect", routed)
    return route, asked


async def test_a_clinic_smtp_name_rebound_inside_is_never_connected_to(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    org: asyncpg.Record,
    db: Database,
    web_settings: Settings,
    internal_mail: tuple[int, list[str]],
    rebinding_network: Any,
) -> None:
    internal_port, heard = internal_mail
    route, asked = rebinding_network
    account = {
        "host": NAME,
        "port": internal_port,
        "security": "none",
        "from_address": "Rebind Clinic <care@rebinding.example>",
    }
    with SmtpSink() as clinics_server:
        route["port"] = clinics_server.port
        saved = await client.put("/api/v1/provider-accounts/email", json=account, headers=auth)
        assert saved.status_code == 200, saved.text  # checked at the clinic's real server
        assert heard == []
        assert "internal-relay" not in saved.text

        # The worker's send: resolved again (now inside), and refused, not connected.
        assert db.pool is not None
        clinics = ClinicSenders(db.pool, web_settings, {}, SecretBox.from_settings(web_settings))
        await clinics.refresh()
        try:
            sender = clinics.for_clinic(org["id"])[Channel.EMAIL]
            with pytest.raises(Exception, match="private, loopback or link-local"):
                await sender.send("patient@example.org", OutboundMessage(text="Your dose"))
            assert heard == [] and clinics_server.messages == []
            asked.clear()  # the name answers outside again for its next resolution
            await sender.send("patient@example.org", OutboundMessage(text="Your 9:00 dose"))
        finally:
            await clinics.aclose()
        assert heard == []
        assert len(clinics_server.messages) == 1
    assert len(asked) == 1  # one resolution per connection, not two
