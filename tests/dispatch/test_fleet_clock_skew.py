"""Two real workers whose wall clocks disagree: the one ahead must not reap the other's leases
while it still holds them (waiting for their chat's turn, or sending), nor send them again.

Leases were written in the claiming worker's clock (``locked_until = $1 + lease``, ``$1`` its
``now``) and reaped in the reaping worker's (``locked_until < $1``): a worker on a host two
minutes ahead returned live workers' rows, and 7-12 of these 30 messages went twice. Now every
worker keeps the database's clock (scheduler/fleet_clock.py: ``clock_timestamp()`` read at start
and with each heartbeat, moved on by the monotonic clock), as the fleet's send ledger already did
(``take_send_slots`` counts in ``clock_timestamp()``: the run prints no 429).

Found by H4 in session 26 looking into the fleet kills test's unexplained duplicates. (Its other
proposal, also reading ``lease_token`` in the check before a send that waits, ``hold_at_send``,
took the test from 7 duplicates to none as well; not taken: with one clock a live holder keeps
its lease, and the check runs only for sends whose read is older than a quarter second.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import asyncpg
import pytest

from tests.cli_processes import spawn_cli
from tests.dispatch.test_fleet_limits import ROOT, TOKEN, LeanTelegram, _backlog
from tests.process_env import service_env

_FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
SKEW_SECONDS = 120  # the second worker's clock: two minutes ahead
# The first worker has the production lease (60 s). The other's reaper runs every half of its
# own lease: 2 s makes it run each second, so the test need not wait the production 30 s (its
# own claims are leased in its clock, two minutes ahead: nobody reaps them early). Three chats at
# Telegram's one message a second per chat drain 30 messages in about 10 s: the first worker
# holds claims waiting for their chat's turn when the other's reaper runs.
TOTAL = 30
AHEAD_LEASE_SECONDS = "2"


def _worker(database_url: str, tmp: Path, name: str, **extra: str) -> subprocess.Popen[bytes]:
    log = (tmp / f"{name}.stderr").open("wb")
    env = service_env(
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp / "data"),
        MEDREMIND_DB_POOL_MIN="1",
        MEDREMIND_DB_POOL_MAX="4",
        MEDREMIND_LOG_LEVEL="WARNING",
        **extra,
    )
    # Forked with the commands imported (tests.cli_processes); the worker whose clock is moved
    # (LD_PRELOAD, FAKETIME) gets a new interpreter, as the fake clock must load at its start.
    return spawn_cli(["worker"], cwd=ROOT, env=env, stdout=log, stderr=log)


def _ahead_clock() -> dict[str, str]:
    """libfaketime's variables for a worker SKEW_SECONDS ahead of this process's wall clock.

    Under tests/clock/run_at.py this process runs under libfaketime already, moved by
    ``FAKETIME`` seconds ("+2128949"): a worker given ``+120s`` alone ran 120 s ahead of the real
    clock, weeks behind every other process of the run, and the test no longer tried a worker
    whose clock runs ahead. Its offset is added to the moved one, with libfaketime alone
    preloaded (the server's library that run_at puts first is for PostgreSQL)."""
    moved = os.environ.get("FAKETIME", "+0")
    try:
        offset = int(moved)
    except ValueError:
        pytest.skip(f"FAKETIME={moved!r}: only run_at.py's offsets in seconds are moved on")
    preloaded = [p for p in os.environ.get("LD_PRELOAD", "").split(":") if "libfaketime" in p]
    library = preloaded[-1] if preloaded else str(_FAKETIME)
    return {"LD_PRELOAD": library, "FAKETIME": f"{offset + SKEW_SECONDS:+d}"}


class SentTwice(AssertionError):
    """A message sent twice (what the test guards against), apart from a test that went wrong."""


@pytest.mark.skipif(not _FAKETIME.exists(), reason="libfaketime (Debian's faketime) missing")
async def test_a_worker_whose_clock_runs_ahead_does_not_resend_what_another_is_sending(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    fake = LeanTelegram(latency=0.05)
    telegram = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": fake.base_url}
    procs = []
    deadline = time.monotonic() + 180

    async def until(sql: str, *args: object) -> None:
        while not await admin_conn.fetchval(sql, *args):
            assert time.monotonic() < deadline, [
                (tmp_path / f"{n}.stderr").read_text()[-2000:] for n in ("true_clock", "ahead")
            ]
            await asyncio.sleep(0.1)

    try:
        ahead = _worker(
            database_url,
            tmp_path,
            "ahead",
            **_ahead_clock(),
            # Only the wall clock is moved: timers and the send deadlines run as they do.
            FAKETIME_DONT_FAKE_MONOTONIC="1",
            MEDREMIND_LEASE_SECONDS=AHEAD_LEASE_SECONDS,
            **telegram,
        )
        procs.append(ahead)
        # Up (its first heartbeat: its jobs run), then stopped while the other claims, so the
        # first worker holds leases of its own clock when this one's reaper runs again.
        await until(
            "select count(*) from worker_heartbeats where worker_id = $1",
            f"{socket.gethostname()}:{ahead.pid}",
        )
        ahead.send_signal(signal.SIGSTOP)
        first = _worker(database_url, tmp_path, "true_clock", **telegram)
        procs.append(first)
        await _backlog(admin_conn, "telegram", [str(500000000 + i) for i in range(3)], TOTAL)
        await until(
            "select count(*) >= 10 from scheduled_messages where locked_by = $1",
            f"{socket.gethostname()}:{first.pid}",
        )
        ahead.send_signal(signal.SIGCONT)
        await until("select count(*) = 0 from scheduled_messages where status <> 'sent'")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stats = fake.stop()
    lost = (tmp_path / "true_clock.stderr").read_text(errors="replace").count("lease lost")
    repeated = stats["repeated_texts"]
    print(
        f"\n{TOTAL} messages, one worker {SKEW_SECONDS:+d} s: {len(repeated)} sent twice;"
        f" lease lost {lost}; 429s {stats['429']}"
    )
    assert stats["distinct_texts"] == TOTAL
    if repeated:
        raise SentTwice(sorted(repeated))
