"""``medremind check`` prints the fleet's open circuit breakers from ``provider_breakers``, the
table every worker and web process shares (scheduler/fleet_breakers.py): one line per breaker,
however many processes hold it, and one the web process opened while no worker runs.

The processes here are the real :class:`FleetBreakers` exchanging with the table and the real
heartbeat writer; ``medremind check`` runs as a process, as an operator runs it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from core.db import Database
from scheduler.breaker import Breakers
from scheduler.fleet_breakers import FleetBreakers
from scheduler.heartbeat import beat
from tests.acceptance.test_cli import _clean_env, _run

SMS = "sms:+15005550006"  # the service's Twilio sender
BOT = "telegram:7123456789"  # a bot's id


def _process(name: str, *, probes: bool = True) -> FleetBreakers:
    """A process's breakers on the fleet's table (threshold 1: one failure opens)."""
    return FleetBreakers(Breakers(threshold=1, cooldown=120.0), name, probes=probes)


def _breaker_lines(stdout: str) -> list[str]:
    """The report's lines of breakers (not its line on the workers)."""
    return [x for x in stdout.splitlines() if x.startswith("Breakers:") and "NO WORKER" not in x]


async def test_check_prints_each_open_breaker_once_from_the_fleets_table(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """Two workers hold the SMS sender's breaker (one opened it): one line, not one per worker.
    The web process's bot replies found the token refused while no worker runs: its breaker is
    printed too (it read ``unknown - no worker heard from``), with the refusal."""
    assert db.pool is not None
    check_env = _clean_env(DATABASE_URL=database_url, MEDREMIND_DATA_DIR=str(tmp_path))
    before = await asyncio.to_thread(_run, ["check"], check_env)
    assert _breaker_lines(before.stdout) == ["Breakers: all closed - none open in the fleet"]

    web = _process("web:host:1", probes=False)
    await web.sync(db.pool)
    web.breakers.refused(BOT, "telegram", "Telegram rejected the bot token")
    await web.sync(db.pool)
    alone = await asyncio.to_thread(_run, ["check"], check_env)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    (line,) = _breaker_lines(alone.stdout)
    assert line.startswith("Breakers: OPEN - telegram account telegram:…6789 since "), line
    assert "the provider refused its credentials (Telegram rejected the bot token)" in line
    assert "no probe out" in line
    assert "Breakers: NO WORKER heard from in the last 60 s" in alone.stdout

    a, b = _process("worker-a"), _process("worker-b")
    for worker in (a, b):
        await worker.sync(db.pool)
    a.breakers.failure(SMS, "sms")  # Twilio failing: a opens, b holds from its next read
    for worker in (a, b):
        await worker.sync(db.pool)
    started = datetime.now(UTC)
    for name, worker in (("worker-a", a), ("worker-b", b)):
        assert worker.breakers.is_open(SMS)
        await beat(db.pool, name, started, datetime.now(UTC), worker.breakers.snapshot())

    checked = await asyncio.to_thread(_run, ["check"], check_env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = _breaker_lines(checked.stdout)
    assert len(lines) == 2, lines
    sms = next(x for x in lines if " sms account " in x)
    assert sms.startswith("Breakers: OPEN - sms account sms:…0006 since "), sms
    assert "the provider keeps failing (1 consecutive failure(s))" in sms
    # The account's key holds the sender's number: never printed (the label keeps 4 digits).
    assert "+15005550006" not in checked.stdout and "7123456789" not in checked.stdout
    assert "NO WORKER" not in checked.stdout
