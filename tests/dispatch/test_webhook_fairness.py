"""One clinic's slow webhook endpoint does not hold the other clinics' webhooks.

Before: a pass claimed the 50 oldest deliveries and waited for all of them, 10 posts at a time.
A clinic whose endpoint hangs (each attempt up to 15 s) with a burst of events written first
filled every batch, and another clinic's webhooks waited for all of its timeouts: 100 events held
the others for 100 s (``bench/webhook_fairness.py``). Now a claim takes at most
``PER_SUBSCRIPTION`` of one subscription in flight, and a pass claims more as each post ends.

The real worker (``serve``), its scheduler, webhook sender and database; the endpoints are real
loopback HTTP servers. The slow one holds every request until the test lets it go, so the test
does not wait for a timeout.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiohttp import web

from core.credentials import SecretBox, new_key, seal_text
from core.db import Database
from core.settings import load_settings
from medremind.worker_process import serve
from scheduler.webhook_sender import PER_SUBSCRIPTION, WebhookSender
from tests import factories
from tests.fakes.endpoint import loopback_endpoint
from tests.waiting import eventually

SLOW_EVENTS = 60  # more than a claim's old batch of 50: it held the whole batch
OTHER_EVENTS = 20


async def test_a_hanging_endpoint_holds_only_its_own_webhooks(
    database_url: str, tmp_path: Path, admin_conn: asyncpg.Connection
) -> None:
    release = asyncio.Event()
    held: list[str] = []
    most_held = 0
    other_got: list[str] = []

    async def hang(request: web.Request) -> web.Response:
        nonlocal most_held
        held.append(request.headers["webhook-id"])
        most_held = max(most_held, len(held))
        try:
            await release.wait()
        finally:
            held.remove(request.headers["webhook-id"])
        return web.Response(status=204)

    async def answer(request: web.Request) -> web.Response:
        other_got.append(request.headers["webhook-id"])
        return web.Response(status=204)

    key = new_key()
    secret = seal_text(SecretBox(key), "whsec_" + "A" * 32)
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "MEDREMIND_DATA_DIR": str(tmp_path / "data"),
            "MEDREMIND_OUTBOX_DIR": str(tmp_path / "outbox"),
            "MEDREMIND_OUTBOX_ENABLED": "true",
            "MEDREMIND_CREDENTIALS_KEY": key,
            "MEDREMIND_WEBHOOK_ALLOW_PRIVATE": "true",  # the endpoints are on loopback
            "MEDREMIND_WEBHOOK_POLL_SECONDS": "0.2",
        }
    )
    async with loopback_endpoint(hang) as slow_port, loopback_endpoint(answer) as port:
        slow = await factories.create_organization(admin_conn, name="Slow Clinic")
        other = await factories.create_organization(admin_conn, name="Other Clinic")
        # The slow clinic's burst is written first: the oldest deliveries are all its own.
        await factories.create_webhook_event(
            admin_conn, slow["id"], f"http://127.0.0.1:{slow_port}/hook", secret
        )
        await factories.create_webhook_event(
            admin_conn, other["id"], f"http://127.0.0.1:{port}/hook", secret
        )
        emit = "select public.emit_webhook_event($1, 'message.status', '{}')"
        await admin_conn.executemany(emit, [(slow["id"],)] * (SLOW_EVENTS - 1))
        await admin_conn.executemany(emit, [(other["id"],)] * (OTHER_EVENTS - 1))
        await admin_conn.execute(
            "update webhook_deliveries d set next_attempt_at = e.created_at"
            " from webhook_events e where e.id = d.event_id"
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(serve(settings, install_signal_handlers=False, stop=stop))
        try:
            # Well inside the sender's 10 s timeout of the held posts.
            await eventually(lambda: len(other_got) == OTHER_EVENTS, timeout=8)
            assert 0 < most_held <= PER_SUBSCRIPTION
            release.set()

            async def all_delivered() -> bool:
                count = await admin_conn.fetchval(
                    "select count(*) from webhook_deliveries where status = 'delivered'"
                )
                return count == SLOW_EVENTS + OTHER_EVENTS

            await eventually(all_delivered, timeout=30)
        finally:
            release.set()
            stop.set()
            assert await asyncio.wait_for(worker, 30) == 0
    assert len(other_got) == len(set(other_got)) == OTHER_EVENTS


async def test_an_endpoint_answering_a_nul_byte_holds_no_other_clinics_webhooks(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    """A clinic's endpoint answered an error whose body held a NUL byte (a C server's buffer):
    the attempt's error, which quotes the answer, could not be stored (PostgreSQL's text takes
    no NUL), the record raised and ended the pass, and the posts in flight to other clinics
    were cancelled, pass after pass: the bad delivery is the oldest due, claimed first each
    time. Now the answer is stored without it, and the delivery is retried as any failure."""
    other_got: list[str] = []

    async def garbled(request: web.Request) -> web.Response:
        return web.Response(status=500, body=b"internal error\x00\x00 at 0x7f3a")

    async def answer(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)  # still in flight when the garbled answer is recorded
        other_got.append(request.headers["webhook-id"])
        return web.Response(status=204)

    box = SecretBox(new_key())
    secret = seal_text(box, "whsec_" + "A" * 32)
    async with loopback_endpoint(garbled) as bad_port, loopback_endpoint(answer) as port:
        bad = await factories.create_organization(admin_conn)
        other = await factories.create_organization(admin_conn)
        await factories.create_webhook_event(
            admin_conn, bad["id"], f"http://127.0.0.1:{bad_port}/hook", secret
        )
        await factories.create_webhook_event(
            admin_conn, other["id"], f"http://127.0.0.1:{port}/hook", secret
        )
        assert db.pool is not None
        sender = WebhookSender(db.pool, retry_schedule=(5.0,), allow_private=True, box=box)
        try:
            assert await sender.run_once(datetime.now(UTC)) == 2
        finally:
            await sender.aclose()
    assert len(other_got) == 1
    rows = await admin_conn.fetch(
        "select s.organization_id, d.status, a.error from webhook_deliveries d"
        " join webhook_subscriptions s on s.id = d.subscription_id"
        " join webhook_delivery_attempts a on a.delivery_id = d.id"
    )
    by_clinic = {r["organization_id"]: (r["status"], r["error"]) for r in rows}
    assert by_clinic[other["id"]] == ("delivered", None)
    assert by_clinic[bad["id"]] == ("pending", "HTTP 500: internal error\ufffd\ufffd at 0x7f3a")
