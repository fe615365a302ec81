"""The fleet's circuit breakers are one (provider_breakers, scheduler/fleet_breakers.py): real
``medremind worker`` processes against a loopback Bot API whose bot token was revoked. A worker
started while another's breaker is open sends nothing on the account: it holds the messages for
the fleet's probe, one per cooldown for all the workers, and each goes once the token works."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import asyncpg

from tests.factories import create_message, create_patient
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.processes import kill, start_telegram_worker, until

COOLDOWN = "3"


def _lines(log: Path, logger: str) -> list[dict[str, object]]:
    """A worker's JSON log lines of ``logger``."""
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("logger") == logger]


async def _stop(worker: subprocess.Popen) -> None:
    """SIGTERM; the worker stops cleanly."""
    worker.terminate()
    assert await asyncio.to_thread(worker.wait, 30) == 0


async def _held_for_the_fleet(log: Path) -> bool:
    """Whether the worker logged that it holds a breaker another process opened."""
    return any("held for the fleet" in str(x["message"]) for x in _lines(log, "scheduler.breaker"))


async def test_a_worker_holds_the_sends_of_a_breaker_another_opened(
    database_url: str,
    admin_conn: asyncpg.Connection,
    tmp_path: Path,
    fake_telegram: FakeTelegram,
) -> None:
    """Worker A opens the breaker and stops; B and C, started then, send nothing but the
    fleet's probes (each had sent its claims at once before), and close together."""
    fake_telegram.fail_next(401, "Unauthorized", method="sendMessage", times=10_000)
    env = {"MEDREMIND_BREAKER_COOLDOWN_SECONDS": COOLDOWN, "MEDREMIND_WORKER_BATCH": "1"}
    first_dir, second_dir, third_dir = (tmp_path / n for n in ("a", "b", "c"))
    for d in (first_dir, second_dir, third_dir):
        d.mkdir()
    workers: list[subprocess.Popen] = []
    try:
        # Worker A learns that the token is refused and opens the bot's breaker, then stops
        # (a deploy during the outage): the breaker stays open for the fleet.
        workers.append(start_telegram_worker(database_url, first_dir, fake_telegram, **env))
        patient = await create_patient(admin_conn, contacts={"telegram": "731500501"})
        first = await create_message(admin_conn, patient["id"], urgent=True)
        await until(
            "the breaker open in the fleet's table",
            lambda: admin_conn.fetchval("select refused from provider_breakers"),
            first_dir / "worker.log",
        )
        await _stop(workers.pop())
        assert len(fake_telegram.calls_to("sendMessage", ok_only=False)) == 1
        ids = [first["id"]]
        for chat in ("731500502", "731500503", "731500504"):
            other = await create_patient(admin_conn, contacts={"telegram": chat})
            ids.append((await create_message(admin_conn, other["id"], urgent=True))["id"])

        # Two new workers hold the four messages: at most the fleet's one probe per cooldown
        # reaches the Bot API (each worker alone sent its claims, and probed on its own).
        workers.append(start_telegram_worker(database_url, second_dir, fake_telegram, **env))
        workers.append(start_telegram_worker(database_url, third_dir, fake_telegram, **env))
        for d in (second_dir, third_dir):
            await until(
                "the worker holding the fleet's breaker",
                lambda d=d: _held_for_the_fleet(d / "worker.log"),
                d / "worker.log",
            )
        before = len(fake_telegram.calls_to("sendMessage", ok_only=False))
        await asyncio.sleep(float(COOLDOWN) * 2)
        probes = len(fake_telegram.calls_to("sendMessage", ok_only=False)) - before
        assert probes <= 2, probes  # one per cooldown: 3 s, then 6 s
        statuses = await admin_conn.fetch(
            "select status, attempts from scheduled_messages where id = any($1)", ids
        )
        assert {r["status"] for r in statuses} <= {"pending", "processing"}

        # The operator put the new token in: the next probe succeeds, every message goes once,
        # and the breaker is closed for the whole fleet.
        fake_telegram.reset()

        async def all_sent() -> bool:
            sent = await admin_conn.fetchval(
                "select count(*) from scheduled_messages where id = any($1) and status = 'sent'",
                ids,
            )
            return bool(sent == len(ids))

        await until("the held messages sent", all_sent, second_dir / "worker.log", 60)
        assert await admin_conn.fetchval("select count(*) from provider_breakers") == 0
        await asyncio.sleep(1)  # a duplicate would show by now
        chats = sorted(str(c.chat_id) for c in fake_telegram.sent_messages)
        assert chats == ["731500501", "731500502", "731500503", "731500504"]
        for worker in workers:
            await _stop(worker)
    finally:
        for worker in workers:
            kill(worker)
    closings = [
        str(x["message"])
        for d in (second_dir, third_dir)
        for x in _lines(d / "worker.log", "scheduler.breaker")
        if "closed" in str(x["message"])
    ]
    # The prober closed it, the other worker learned it from the table.
    assert sorted(closings) == [
        "circuit breaker closed by the fleet: the provider answers again",
        "circuit breaker closed: the provider answers again",
    ], closings
