"""``medremind worker`` itself: real senders from the registry (the outbox without credentials),
LISTEN wake-up, and a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from tests import factories
from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]


async def test_medremind_worker_sends_to_the_outbox_and_stops_on_sigterm(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    env = service_env(
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp_path / "data"),
        MEDREMIND_OUTBOX_DIR=str(outbox),
        MEDREMIND_DB_POOL_MAX="4",
        MEDREMIND_PLANNER_INTERVAL="3600",
    )
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "medremind.cli", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        patient = await factories.create_patient(admin_conn, contacts={"email": "pat@example.org"})
        await asyncio.sleep(1)  # usually idle by now: the insert's NOTIFY wakes it
        msg = await factories.create_message(
            admin_conn, patient["id"], urgent=True, message_content="Outbox check"
        )
        deadline = time.monotonic() + 60
        while True:
            status = await admin_conn.fetchval(
                "select status from scheduled_messages where id = $1", msg["id"]
            )
            if status != "pending" and status != "processing":
                break
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.1)
        assert status == "sent", (tmp_path / "worker.log").read_text()
        assert any(outbox.rglob("*.eml"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        text = (tmp_path / "worker.log").read_text()
        assert "pat@example.org" not in text and "Outbox check" not in text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
