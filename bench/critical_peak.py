"""Time-critical doses due in the middle of a peak of routine reminders, on one Telegram bot.

A bot sends about 30 messages a second, shared by every worker through the fleet's ledger
(``scheduler.fleet_limits``). A peak of routine reminders keeps it busy for a while; a
time-critical dose (insulin, an anticonvulsant) that falls due meanwhile should not wait for it.
Here ``--routine`` reminders are due at one instant and ``--critical`` time-critical ones fall
due one by one over the next ``--spread`` seconds (from 2 s after it), sent by ``--workers`` real
dispatchers (in this process, each its own pool and claims, the fleet ledger between them, the
product's defaults: 64 sends at once, claims of 100) through a loopback Bot API process with
Telegram's caps (30/s, 1/s per chat; ``tests.fakes.lean_telegram``), on a fresh database (the
embedded PostgreSQL, or ``BENCH_DATABASE_URL``'s server). One JSON line: the lateness of each
kind (a critical dose from its own time, a routine one from the peak's), p50/p99/max, and 429s.

    .venv/bin/python bench/critical_peak.py                         # ~40 s
    .venv/bin/python bench/critical_peak.py --code ../wt-before     # another checkout's code

Run by hand; no test asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The code measured: this checkout, or another one (--code, passed on as BENCH_CODE_ROOT).
ROOT = Path(os.environ.get("BENCH_CODE_ROOT") or HERE.parent).resolve()
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(HERE))

TOKEN = "900000:CRITICAL-bench-token-abcdefghijklmnopq"  # noqa: S105 (a loopback fake only)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def _make_peak(conn: Any, routine: int, critical: int, spread: float) -> Any:
    """The patients (one chat each, quiet hours off), their medicines and doses, and the
    reminders: routine ones due at the instant returned, critical ones after it."""
    import uuid

    org = await conn.fetchval(
        "insert into organizations (name, default_quiet_start, default_quiet_end)"
        " values ('Clinic', '00:00', '00:00') returning id"
    )
    total = routine + critical
    patients = [uuid.uuid4() for _ in range(total)]
    await conn.execute(
        "insert into patients (id, organization_id, display_name, timezone, consent_at,"
        " channel_order, quiet_start, quiet_end)"
        " select p, $1, 'Patient', 'UTC', now(), '{telegram}', '00:00', '00:00'"
        " from unnest($2::uuid[]) as p",
        org,
        patients,
    )
    await conn.execute(
        "insert into contact_points (patient_id, channel, address, verified)"
        " select p, 'telegram', (700000000 + n)::text, true"
        " from unnest($1::uuid[]) with ordinality as t(p, n)",
        patients,
    )
    instant = await conn.fetchval("select date_trunc('second', now()) + interval '4 seconds'")
    step = spread / max(1, critical - 1)
    # Patient n (1-based): routine for n <= routine, else critical, due 2 s + k * step later.
    await conn.execute(
        "with pts as (select p, n, n > $2 as crit, $3::timestamptz + case when n > $2"
        "  then make_interval(secs => 2 + (n - $2 - 1) * $4::float8) else interval '0' end as due"
        "  from unnest($1::uuid[]) with ordinality as t(p, n)),"
        " meds as (insert into medications (patient_id, name, time_critical)"
        "  select p, 'Medicine', crit from pts returning id, patient_id, time_critical),"
        " plans as (insert into reminder_schedules (medication_id, patient_id, times_of_day,"
        "  status) select id, patient_id, '{08:00}', 'paused' from meds"
        "  returning id, medication_id, patient_id),"
        " doses as (insert into dose_events (schedule_id, medication_id, patient_id, due_at,"
        "  local_date, local_time) select pl.id, pl.medication_id, pl.patient_id, pts.due,"
        "  (pts.due at time zone 'UTC')::date, (pts.due at time zone 'UTC')::time"
        "  from plans pl join pts on pts.p = pl.patient_id"
        "  returning id, patient_id, medication_id, due_at)"
        " insert into scheduled_messages (organization_id, patient_id, scheduled_time, platform,"
        " kind, priority, dose_event_id, expires_at)"
        " select $5, d.patient_id, d.due_at, 'auto', 'medication_reminder',"
        " case when m.time_critical then 0 else 1 end, d.id, d.due_at + interval '2 hours'"
        " from doses d join meds m on m.id = d.medication_id",
        patients,
        routine,
        instant,
        step,
        org,
    )
    return instant


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One peak; its measurements."""
    from dispatch import (  # type: ignore[import-not-found]  # bench/dispatch.py
        bench_settings,
        fresh_database,
        superuser,
        unlimited,
    )
    from telegram_capacity import _database_server  # type: ignore[import-not-found]

    from core.db import CUSTOM_PLANS, Database
    from core.templating import TemplateRenderer
    from platforms.base import Channel
    from platforms.telegram import TelegramSender
    from platforms.telegram_bots import TelegramBots
    from scheduler.dispatcher import Dispatcher
    from tests.fakes.lean_telegram import LeanTelegramProcess

    fake = LeanTelegramProcess(TOKEN, "--rate-limit", "30", "--chat-rate-limit", "1", cwd=str(ROOT))
    telegram = TelegramBots(TelegramSender(TOKEN, base_url=fake.base_url))
    admin_url, server = _database_server()
    started = time.monotonic()
    try:
        async with fresh_database(admin_url) as url:
            conn = await superuser(url)
            instant = await _make_peak(conn, args.routine, args.critical, args.spread)
            databases = [
                Database(bench_settings(url, tmp / f"w{n}"), server_settings=CUSTOM_PLANS)
                for n in range(args.workers)
            ]
            dispatchers = []
            for n, db in enumerate(databases):
                await db.start()
                config = unlimited(
                    worker_id=f"bench-{n}",
                    batch_size=100,
                    concurrency=64,
                    lease_seconds=60,
                    fleet_limits=True,
                    platform_rates={Channel.TELEGRAM: 30.0},
                    recipient_rates={Channel.TELEGRAM: 1.0},
                )
                renderer = TemplateRenderer(sms_max_segments=3)
                dispatchers.append(
                    Dispatcher(db.pool, {Channel.TELEGRAM: telegram}, renderer, config=config)
                )
            tasks = [asyncio.create_task(d.run()) for d in dispatchers]
            try:
                while await conn.fetchval(
                    "select count(*) from scheduled_messages where status in"
                    " ('pending', 'processing')"
                ):
                    for task in tasks:
                        if task.done():
                            task.result()
                    await asyncio.sleep(0.5)
            finally:
                for d in dispatchers:
                    d.request_stop()
                await asyncio.gather(*tasks, return_exceptions=True)
                for db in databases:
                    await db.stop()
            rows = await conn.fetch(
                "select m.priority, m.status,"
                " extract(epoch from m.sent_at - m.scheduled_time) as late,"
                " extract(epoch from m.sent_at - $1) as since_peak"
                " from scheduled_messages m join dose_events d on d.id = m.dose_event_id",
                instant,
            )
            await conn.close()
    finally:
        await telegram.aclose()
        stats = fake.stop()
        if server is not None:
            server.cleanup()
    sent = [r for r in rows if r["status"] == "sent"]
    critical = [max(0.0, float(r["late"])) for r in sent if r["priority"] == 0]
    routine = [float(r["since_peak"]) for r in sent if r["priority"] != 0]
    return {
        "bench": "critical_peak",
        "code": str(ROOT),
        "workers": args.workers,
        "routine": args.routine,
        "critical": args.critical,
        "spread_s": args.spread,
        "sent": len(sent),
        "not_sent": len(rows) - len(sent),
        "critical_late_p50_s": _pct(critical, 0.5),
        "critical_late_p99_s": _pct(critical, 0.99),
        "critical_late_max_s": round(max(critical, default=0.0), 2),
        "routine_late_p50_s": _pct(routine, 0.5),
        "routine_late_p99_s": _pct(routine, 0.99),
        "routine_last_s": round(max(routine, default=0.0), 2),
        "answered_429": stats["429"],
        "wall_s": round(time.monotonic() - started, 1),
    }


def main() -> int:
    """Run one peak (or re-run this script against ``--code``); print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", type=int, default=600, help="routine reminders at once")
    parser.add_argument("--critical", type=int, default=40, help="time-critical doses after")
    parser.add_argument("--spread", type=float, default=12.0, help="seconds they fall due over")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--code", default=None, help="measure the code of another checkout")
    args = parser.parse_args()
    if args.code:
        env = {**os.environ, "BENCH_CODE_ROOT": str(Path(args.code).resolve())}
        argv = [a for a in sys.argv[1:] if a != args.code and a != "--code"]
        return subprocess.call([sys.executable, __file__, *argv], env=env)
    with tempfile.TemporaryDirectory(prefix="medremind-critical-") as tmp:
        print(json.dumps(asyncio.run(run(args, Path(tmp)))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
