"""An outgoing webhook never reaches the service's own network through DNS rebinding.

The sender checked the endpoint's name before each attempt (every address global), then the
HTTP client resolved it again to connect: a clinic's name that answers a public address to the
check and 127.0.0.1 to the connection (DNS rebinding) reached services inside the network, and
their error answers came back in the clinic's delivery log. Now the addresses the client connects
to are the checked ones (platforms.addresses.PublicResolver).

The name server is the one thing simulated here (``socket.getaddrinfo``, which both resolutions
use); the sender, its HTTP client and the database are real, and the "internal service" is a real
loopback server.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from core.credentials import SecretBox, new_key, seal_text
from core.db import Database
from scheduler.webhook_sender import WebhookSender
from tests import factories
from tests.fakes.endpoint import loopback_endpoint

NAME = "hooks.rebinding.example"
PUBLIC = "93.184.216.34"


@pytest.fixture
async def internal_service() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A loopback HTTP service standing for one inside the network: its port, what it got."""
    received: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=403, text="internal admin: token abc-internal-123 required")

    async with loopback_endpoint(handle) as port:
        yield port, received


async def test_a_name_rebound_to_loopback_after_the_check_is_not_posted_to(
    db: Database,
    admin_conn: asyncpg.Connection,
    internal_service: tuple[int, list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, received = internal_service
    real = socket.getaddrinfo
    asked: list[str] = []

    def rebinding_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real(host, *args, **kwargs)
        asked.append(host)
        address = PUBLIC if len(asked) == 1 else "127.0.0.1"  # public first, then inside
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    box = SecretBox(new_key())
    org = await factories.create_organization(admin_conn)
    await factories.create_webhook_event(
        admin_conn, org["id"], f"http://{NAME}:{port}/hook", seal_text(box, "whsec_" + "A" * 32)
    )
    assert db.pool is not None
    sender = WebhookSender(db.pool, retry_schedule=(5.0,), box=box)
    try:
        assert await sender.run_once(datetime.now(UTC)) == 1
    finally:
        await sender.aclose()
    assert len(asked) >= 2  # the check, then the connection
    assert received == []
    attempt = await admin_conn.fetchrow("select status_code, error from webhook_delivery_attempts")
    assert attempt["status_code"] is None
    assert "private, loopback or link-local" in attempt["error"]
    assert "abc-internal-123" not in attempt["error"]
