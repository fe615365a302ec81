"""The claim cache's update triggers of clinics and contact points, timed per statement; one JSON
line per variant and table.

A session's first firing of a statement trigger plans its query for the transition tables it
has then, and PL/pgSQL keeps that plan: after a one-row first update (a clinic's settings saved,
one contact point opted out), a join of the old and new rows ran as a nested loop on every later
batch. Here a fresh session updates one row, then ``--rows`` rows (median of 3) of each table, on
a database migrated to the end (``after``) and one that stops before 20260101015550 (``before``,
the join of 20260101012000):

    .venv/bin/python bench/claim_cache_triggers.py
    .venv/bin/python bench/claim_cache_triggers.py --rows 2000 --variants after

On the embedded PostgreSQL (or ``BENCH_DATABASE_URL``, a superuser URL). Wall-clock seconds of
one client on one backend: the statements run on the server.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.dispatch import _with_db, bench_server, emit, make_patients  # noqa: E402
from core.migrate import discover, migrate  # noqa: E402

# The fix: the "before" variant stops just before it.
FIX = "20260101015550"
REPEATS = 3
# One row first (the plan the session keeps), then the batch: each changes a cached column.
STATEMENTS = {
    "organizations": (
        "update organizations set name = name || '.'"
        " where id = (select id from organizations order by id limit 1)",
        "update organizations set name = name || '.'"
        " where id in (select id from organizations order by id limit $1)",
    ),
    "contact_points": (
        "update contact_points set active = not active"
        " where id = (select id from contact_points order by id limit 1)",
        "update contact_points set active = not active"
        " where id in (select id from contact_points order by id limit $1)",
    ),
}


async def run_variant(admin_url: str, variant: str, rows: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="medremind-claim-cache-"))
    for m in discover():
        if variant == "after" or m.version < FIX:
            shutil.copy(m.path, directory / m.path.name)
    name = f"bench_claim_cache_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'create database "{name}"')
    url = _with_db(admin_url, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn, directory)
            await conn.execute(
                "insert into organizations (name) select 'Bench clinic ' || i"
                " from generate_series(1, $1) i",
                rows,
            )
            await make_patients(conn, rows)
            await conn.execute("vacuum analyze")
        finally:
            await conn.close()
        for table, (first, batch) in STATEMENTS.items():
            conn = await asyncpg.connect(url)  # a fresh session: its first firing plans
            try:
                await conn.execute(first)
                seconds = []
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    await conn.execute(batch, rows)
                    seconds.append(time.perf_counter() - started)
            finally:
                await conn.close()
            emit(
                bench="claim_cache_triggers",
                variant=variant,
                table=table,
                rows=rows,
                seconds=round(statistics.median(seconds), 4),
            )
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()
        shutil.rmtree(directory)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--variants", nargs="*", default=["before", "after"])
    args = parser.parse_args()
    with bench_server() as admin_url:
        for variant in args.variants:
            asyncio.run(run_variant(admin_url, variant, args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
