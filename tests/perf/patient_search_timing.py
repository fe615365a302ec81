"""Time the API's patient search (``GET /api/v1/patients?q=``) on a clinic of 20,000 patients.

The statement the route runs (``core/sql/clinic_ops.sql`` ``list_patients``) with the route's
parameters, on a fresh database migrated to the end of the code tree given, each search repeated
and its median printed as one JSON line. Run it on two trees for a before/after:

    PYTHONPATH=/work/main .venv/bin/python tests/perf/patient_search_timing.py --code /work/main
    .venv/bin/python tests/perf/patient_search_timing.py

On the embedded PostgreSQL (or ``BENCH_DATABASE_URL``, a superuser URL). Not a test: no file
name of pytest's, nothing asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

_parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
_parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[2])
_parser.add_argument("--patients", type=int, default=20_000)
_parser.add_argument("--repeat", type=int, default=7)
_parser.add_argument("--explain", action="store_true", help="print each search's plan")
ARGS = _parser.parse_args()
sys.path.insert(0, str(ARGS.code.resolve()))

import asyncpg  # noqa: E402

from bench.dispatch import bench_server, fresh_database  # noqa: E402
from core.sql import query  # noqa: E402
from medremind.web.api_v1.fields import name_pattern  # noqa: E402

# What a clinician types: a name fragment (some, one, no match), a name without its accent, a
# phone number written nationally, an e-mail address, an external id.
SEARCHES = (
    "Garc",
    "Muñoz 1234",
    "munoz 1234",
    "nobody",
    "(415) 555-1234",
    "p76@example.org",
    "MRN-5000",
)
PAGE = 50


async def seed(conn: asyncpg.Connection, count: int) -> str:
    """One clinic of ``count`` patients (named as a clinic's are, with an SMS number or an e-mail
    address each, an external id) and one other clinic of as many; the first clinic's id."""
    orgs = [
        str(await conn.fetchval("insert into organizations (name) values ($1) returning id", n))
        for n in ("Searched Clinic", "Other Clinic")
    ]
    names = ["García", "Muñoz", "Smith", "Nguyen", "Okafor", "Lindqvist", "Søren", "Jones"]
    for org in orgs:
        await conn.execute(
            "insert into patients (organization_id, display_name, timezone, consent_at,"
            " channel_order, external_id)"
            " select $1, ($2::text[])[1 + i % 8] || ' ' || i, 'UTC', now(), '{sms}', 'MRN-' || i"
            " from generate_series(1, $3) i",
            org,
            names,
            count,
        )
    await conn.execute(
        "insert into contact_points (patient_id, channel, address, verified)"
        " select id, case when n % 4 = 0 then 'email' else 'sms' end,"
        " case when n % 4 = 0 then 'p' || n || '@example.org'"
        " else '+1415555' || lpad(n::text, 4, '0') end, true"
        " from (select id, row_number() over (order by created_at, id) n from patients) t"
        " where n <= 9999 or n % 4 = 0"
    )
    await conn.execute("analyze")
    return orgs[0]


async def run() -> None:
    with bench_server() as admin_url:
        async with fresh_database(admin_url) as url:
            conn = await asyncpg.connect(url)
            try:
                org = await seed(conn, ARGS.patients)
                sql = query("clinic_ops", "list_patients")
                for q in SEARCHES:
                    args = (org, None, None, name_pattern(q), None, PAGE + 1, q, None)
                    rows = await conn.fetch(sql, *args)  # warm: plan and caches
                    times = []
                    for _ in range(ARGS.repeat):
                        started = time.perf_counter()
                        await conn.fetch(sql, *args)
                        times.append(time.perf_counter() - started)
                    line = {
                        "q": q,
                        "found": len(rows),
                        "median_ms": round(statistics.median(times) * 1000, 1),
                        "min_ms": round(min(times) * 1000, 1),
                    }
                    print(json.dumps(line, ensure_ascii=False), flush=True)
                    if ARGS.explain:
                        plan = await conn.fetch("explain (analyze, costs off) " + sql, *args)
                        print("\n".join(r[0] for r in plan))
            finally:
                await conn.close()


if __name__ == "__main__":
    asyncio.run(run())
