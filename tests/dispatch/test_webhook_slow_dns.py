"""A name server that does not answer holds an outgoing webhook's attempt 5 s at most.

The address check before each attempt (``refused_address``) waited for the system resolver as
long as it took (its timeout times its attempts times the name servers: 30 s and more, past
the attempt's 10 s and towards the claim's 60 s lease), holding one of the sender's slots. Its
lookup is bounded now: the attempt is recorded as failed, naming the name, and retried.

As in test_webhook_rebinding.py, the name server is the one thing simulated
(``socket.getaddrinfo``); the sender and the database are real.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from core.credentials import SecretBox, new_key, seal_text
from core.db import Database
from scheduler.webhook_sender import RESOLVE_SECONDS, WebhookSender, refused_address
from tests import factories

NAME = "hooks.silent-dns.example"


@pytest.fixture
def silent_dns(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``NAME`` never resolves (until the test ends); other names as usual."""
    real = socket.getaddrinfo
    released = threading.Event()

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NAME:
            released.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    yield
    released.set()


async def test_the_address_check_gives_up_on_a_silent_name_server(silent_dns: Any) -> None:
    assert RESOLVE_SECONDS <= 5
    started = time.monotonic()
    refused = await refused_address(f"https://{NAME}/hook", False, wait_seconds=0.3)
    assert time.monotonic() - started < 2
    assert refused == f"cannot resolve {NAME} within 0.3 s"


async def test_an_attempt_to_a_silent_name_is_recorded_and_retried(
    db: Database, admin_conn: asyncpg.Connection, silent_dns: Any
) -> None:
    box = SecretBox(new_key())
    org = await factories.create_organization(admin_conn)
    await factories.create_webhook_event(
        admin_conn, org["id"], f"https://{NAME}/hook", seal_text(box, "whsec_" + "A" * 32)
    )
    assert db.pool is not None
    sender = WebhookSender(db.pool, retry_schedule=(5.0,), box=box, resolve_seconds=0.3)
    started = time.monotonic()
    try:
        assert await sender.run_once(datetime.now(UTC)) == 1
    finally:
        await sender.aclose()
    assert time.monotonic() - started < 3
    attempt = await admin_conn.fetchrow("select status_code, error from webhook_delivery_attempts")
    assert attempt["status_code"] is None
    assert attempt["error"] == f"cannot resolve {NAME} within 0.3 s"
    delivery = await admin_conn.fetchrow("select status, next_attempt_at from webhook_deliveries")
    assert delivery["status"] == "pending" and delivery["next_attempt_at"] is not None
