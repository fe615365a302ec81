"""The cap of one subscription's posts in flight holds for the fleet, not per worker.

Before: each worker's claim counted the other workers' live leases, but two claims at the same
instant could not see each other's (neither had committed): each took ``PER_SUBSCRIPTION`` of a
hanging endpoint's deliveries, so two workers held twice the cap of its posts, three three
times. Now claims take turns under a transaction's advisory lock (``lock_claims`` in
core/sql/webhooks.sql), and each one's statement sees every lease taken before it.

Two real workers (``serve``) over one database; the endpoint is a loopback HTTP server that holds
every request until the test lets it go. A statement trigger the test adds makes every claim
take 300 ms, so the two workers' claims (each polling every 0.2 s) overlap, as they may at any
time in production.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from aiohttp import web

from core.credentials import SecretBox, new_key, seal_text
from core.settings import Settings, load_settings
from medremind.worker_process import serve
from scheduler.webhook_sender import PER_SUBSCRIPTION
from tests import factories
from tests.fakes.endpoint import loopback_endpoint
from tests.waiting import eventually

EVENTS = 40  # more than both workers' caps together

SLOW_CLAIMS = """
create function test_slow_claim() returns trigger language plpgsql as $$
begin
  perform pg_sleep(0.3);
  return null;
end $$;
create trigger slow_claim before update on webhook_deliveries
  for each statement execute function test_slow_claim();
"""


async def test_two_workers_hold_no_more_than_the_cap_of_one_endpoints_posts(
    database_url: str, tmp_path: Path, admin_conn: asyncpg.Connection
) -> None:
    release = asyncio.Event()
    held: set[str] = set()
    most_held = 0

    async def hang(request: web.Request) -> web.Response:
        nonlocal most_held
        held.add(request.headers["webhook-id"])
        most_held = max(most_held, len(held))
        try:
            await release.wait()
        finally:
            held.discard(request.headers["webhook-id"])
        return web.Response(status=204)

    key = new_key()
    secret = seal_text(SecretBox(key), "whsec_" + "A" * 32)

    def settings(name: str) -> Settings:
        return load_settings(
            {
                "DATABASE_URL": database_url,
                "MEDREMIND_DATA_DIR": str(tmp_path / name),
                "MEDREMIND_OUTBOX_DIR": str(tmp_path / name / "outbox"),
                "MEDREMIND_OUTBOX_ENABLED": "true",
                "MEDREMIND_CREDENTIALS_KEY": key,
                "MEDREMIND_WEBHOOK_ALLOW_PRIVATE": "true",  # the endpoint is on loopback
                "MEDREMIND_WEBHOOK_POLL_SECONDS": "0.2",
            }
        )

    async with loopback_endpoint(hang) as port:
        clinic = await factories.create_organization(admin_conn, name="Hanging Clinic")
        await factories.create_webhook_event(
            admin_conn, clinic["id"], f"http://127.0.0.1:{port}/hook", secret
        )
        emit = "select public.emit_webhook_event($1, 'message.status', '{}')"
        await admin_conn.executemany(emit, [(clinic["id"],)] * (EVENTS - 1))
        await admin_conn.execute(SLOW_CLAIMS)
        stop = asyncio.Event()
        workers = [
            asyncio.create_task(serve(s, install_signal_handlers=False, stop=stop))
            for s in (settings("one"), settings("two"))
        ]
        try:
            await eventually(lambda: len(held) >= PER_SUBSCRIPTION, timeout=8)
            # Both workers have claimed many times over by now (every 0.2 s, 0.3 s a claim).
            await asyncio.sleep(3)
            assert most_held == PER_SUBSCRIPTION
            leased = await admin_conn.fetchval(
                "select count(*) from webhook_deliveries where status = 'delivering'"
            )
            assert leased == PER_SUBSCRIPTION
        finally:
            release.set()
            stop.set()
            assert await asyncio.gather(*(asyncio.wait_for(w, 30) for w in workers)) == [0, 0]
