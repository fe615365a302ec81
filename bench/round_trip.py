"""CPU of one database round trip on this machine, client and server: what a steady trickle of
messages pays per claim, record, notification and barrier (``bench/dispatch.py`` scenario 4).

    .venv/bin/python bench/round_trip.py                # 5,000 round trips per kind
    .venv/bin/python bench/round_trip.py --calls 20000

Each kind runs ``--calls`` statements one after another on one connection (uvloop, as the worker
runs): ``select 1``; a prepared statement of one parameter; a NOTIFY that this process's own
LISTEN connection receives (the claim's cache barrier, scheduler/claim_cache.py: a second
backend and a second socket woken). The client's CPU is this process's (``time.process_time``),
the server's its backends' (``/proc/<pid>/schedstat``), both per round trip, beside the wall
time. On a 2-core VM a round trip's cost is mostly the wake-ups on either side (the client's
``write`` to a socket whose reader sleeps on the other core), not the statement: compare with
scenario 4's worker and PostgreSQL CPU per message and its round trips per message.
One JSON line per kind. Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.dispatch import bench_server, emit  # noqa: E402
from medremind.runtime import run_async  # noqa: E402


def _schedstat_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


async def _measure(name: str, calls: int, pids: list[int], call: object) -> None:
    assert callable(call)
    for _ in range(min(200, calls)):  # warm: plans, caches
        await call()
    server0 = sum(_schedstat_ns(p) for p in pids)
    client0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(calls):
        await call()
    wall = time.perf_counter() - wall0
    client = time.process_time() - client0
    server = (sum(_schedstat_ns(p) for p in pids) - server0) / 1e9
    emit(
        bench="round_trip",
        kind=name,
        calls=calls,
        client_cpu_us_per_round_trip=round(client / calls * 1e6, 1),
        server_cpu_us_per_round_trip=round(server / calls * 1e6, 1),
        wall_us_per_round_trip=round(wall / calls * 1e6, 1),
        load_1m=round(os.getloadavg()[0], 2),
    )


async def run(admin_url: str, calls: int) -> None:
    conn = await asyncpg.connect(admin_url)
    listener = await asyncpg.connect(admin_url)
    try:
        pids = [conn.get_server_pid(), listener.get_server_pid()]
        await _measure("select 1", calls, pids[:1], lambda: conn.fetchval("select 1"))
        statement = await conn.prepare("select $1::int + 1")
        await _measure("prepared, one parameter", calls, pids[:1], lambda: statement.fetchval(1))

        arrived: asyncio.Queue[str] = asyncio.Queue()
        await listener.add_listener("bench_barrier", lambda *a: arrived.put_nowait(a[3]))

        async def barrier() -> None:
            await conn.execute("select pg_notify('bench_barrier', 'x')")
            await arrived.get()

        await _measure("notify and wait for it (a claim's barrier)", calls, pids, barrier)
    finally:
        await conn.close()
        await listener.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    if args.admin_url:
        run_async(run(args.admin_url, args.calls))
        return 0
    with bench_server() as admin_url:
        run_async(run(admin_url, args.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
