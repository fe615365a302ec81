"""A clinic's set-based import of its patients, timed per statement; one JSON line per variant.

``bench/dispatch.py``'s ``make_clinic`` (N patients of three clinics, a contact point each, a
medicine, its schedule, today's dose, some appointments: one statement each) on a database that
already holds M sent messages of 1,000 other patients, as a running service's does. The triggers
these inserts fire (reachability, the first-send link, the claim cache's notices) ran per row and
read every patient not linked yet per firing: scenario 11's set-up at 100,000 patients ran for
more than 5 minutes in its contact points' insert (migrations 20260101015210, 20260101015220).
Then the imported patients' first reminders are recorded sent, 500 in a statement as the
dispatcher records them (``first_sends_500_seconds``, the median of 3): each send links its
patient, which refreshed reachability per row (20260101015230).

Each variant is a fresh database: ``after`` migrated to the end, ``before`` up to
20260101015200 (the migrations before the fix), so one run gives both:

    .venv/bin/python bench/import_patients.py                          # 5,000 among 200,000
    .venv/bin/python bench/import_patients.py --patients 20000 --variants after

On the embedded PostgreSQL (or ``BENCH_DATABASE_URL``, a superuser URL). Wall-clock seconds of
one client on one backend: the statements run on the server, nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.dispatch import (  # noqa: E402
    _with_db,
    bench_server,
    emit,
    insert_due,
    insert_reminders,
    make_clinic,
    make_patients,
)
from core.migrate import discover, migrate  # noqa: E402

# The last migration before the fix: the "before" variant stops there.
BEFORE = "20260101015200"
BATCHES = 3
RECORD_BATCH = (
    "update scheduled_messages set status = 'sent', sent_at = now() where id in"
    " (select id from scheduled_messages where status = 'pending' limit 500)"
)


class TimedStatements:
    """A connection's ``execute``/``fetchval`` that keeps each statement's wall time, named by
    the table it writes (``make_clinic`` runs one statement per table)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.seconds: dict[str, float] = {}

    async def _timed(self, call: Any, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        result = await call(sql, *args)
        words = sql.split()
        name = words[2] if words[:2] == ["insert", "into"] else " ".join(words[:2])
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - started, 3)
        return result

    async def execute(self, sql: str, *args: Any) -> Any:
        return await self._timed(self.conn.execute, sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._timed(self.conn.fetchval, sql, *args)


async def run_variant(admin_url: str, variant: str, patients: int, others: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="medremind-import-"))
    for m in discover():
        if variant == "after" or m.version <= BEFORE:
            shutil.copy(m.path, directory / m.path.name)
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'create database "{name}"')
    try:
        conn = await asyncpg.connect(_with_db(admin_url, name), server_settings={"timezone": "UTC"})
        try:
            await migrate(conn, directory)
            filler = await make_patients(conn, 1000)
            await insert_due(conn, filler, others, "sent")
            await conn.execute("vacuum analyze")
            timed = TimedStatements(conn)
            started = time.perf_counter()
            await make_clinic(cast(asyncpg.Connection, timed), patients)
            total = time.perf_counter() - started
            # Then the first reminders of the imported patients, recorded sent in batches of
            # 500 as the dispatcher records them: each links its patients.
            await insert_reminders(conn)
            first_sends = []
            for _ in range(BATCHES):
                started = time.perf_counter()
                await conn.execute(RECORD_BATCH)
                first_sends.append(time.perf_counter() - started)
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()
        shutil.rmtree(directory)
    emit(
        bench="import_patients",
        variant=variant,
        patients=patients,
        others=others,
        seconds=timed.seconds,
        total_seconds=round(total, 3),
        first_sends_500_seconds=round(statistics.median(first_sends), 3),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=5_000)
    parser.add_argument("--others", type=int, default=200_000, help="sent rows of 1,000 others")
    parser.add_argument("--variants", nargs="*", default=["before", "after"])
    args = parser.parse_args()
    with bench_server() as admin_url:
        for variant in args.variants:
            asyncio.run(run_variant(admin_url, variant, args.patients, args.others))
    return 0


if __name__ == "__main__":
    sys.exit(main())
