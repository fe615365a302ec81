"""A webhook pass longer than its interval is no log spam, and nothing is left behind.

Operator run: a worker's webhook pass over ~150 deliveries to a clinic's slow endpoint took more
than ``MEDREMIND_WEBHOOK_POLL_SECONDS`` (2 s), and APScheduler logged a WARNING at every tick
that fell on it ("Execution of job ... skipped: maximum number of running instances reached").
Now a housekeeping job is off the schedule while its pass runs (medremind.housekeeping_jobs).

The real worker (``serve``), its scheduler, webhook sender and database; the endpoint is a real
loopback HTTP server that takes 0.3 s to answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web

from core.credentials import SecretBox, new_key, seal_text
from core.settings import load_settings
from medremind.worker_process import serve
from tests import factories
from tests.fakes.endpoint import loopback_endpoint
from tests.waiting import eventually

EVENTS = 60  # 8 posts at a time to the one endpoint: 8 rounds at 0.3 s


@pytest.fixture
async def slow_endpoint() -> AsyncIterator[tuple[str, list[str]]]:
    """A receiver that answers 204 after 0.3 s: its URL and the webhook ids it got."""
    got: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        got.append(request.headers["webhook-id"])
        return web.Response(status=204)

    async with loopback_endpoint(handle) as port:
        yield f"http://127.0.0.1:{port}/hook", got


async def test_a_long_pass_logs_no_skipped_tick_and_delivers_everything(
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
    slow_endpoint: tuple[str, list[str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, got = slow_endpoint
    key = new_key()
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "MEDREMIND_DATA_DIR": str(tmp_path / "data"),
            "MEDREMIND_OUTBOX_DIR": str(tmp_path / "outbox"),
            "MEDREMIND_OUTBOX_ENABLED": "true",
            "MEDREMIND_CREDENTIALS_KEY": key,
            "MEDREMIND_WEBHOOK_ALLOW_PRIVATE": "true",  # the endpoint is on loopback
            "MEDREMIND_WEBHOOK_POLL_SECONDS": "0.2",
        }
    )
    org = await factories.create_organization(admin_conn)
    await factories.create_webhook_event(
        admin_conn, org["id"], url, seal_text(SecretBox(key), "whsec_" + "A" * 32)
    )
    for _ in range(EVENTS - 1):
        await admin_conn.execute(
            "select public.emit_webhook_event($1, 'message.status', '{}')", org["id"]
        )
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="apscheduler")
    worker = asyncio.create_task(serve(settings, install_signal_handlers=False, stop=stop))

    async def delivered() -> bool:
        count = await admin_conn.fetchval(
            "select count(*) from webhook_deliveries where status = 'delivered'"
        )
        return count == EVENTS

    try:
        await eventually(delivered, timeout=30)
    finally:
        stop.set()
        assert await asyncio.wait_for(worker, 30) == 0
    assert len(got) == EVENTS == len(set(got))
    skipped = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == []
    missed = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert missed == [], [r.getMessage() for r in missed]
