"""``medremind backup`` of a running embedded database, ``medremind restore`` into a fresh data
directory, and ``medremind worker`` sending the pending messages from the restored copy."""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import asyncpg
import pytest

from core.embedded import EmbeddedPostgres
from core.migrate import migrate
from tests import factories
from tests.cli_processes import run_cli, spawn_cli
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fixtures import fake_telegram  # noqa: F401
from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]
MIDNIGHT = time(0, 0)  # quiet hours with start = end: off, so the test passes at any hour


def medremind(*args: str, data_dir: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = service_env(
        MEDREMIND_DATA_DIR=str(data_dir),
        MEDREMIND_QUIET_HOURS_START="00:00",
        MEDREMIND_QUIET_HOURS_END="00:00",
        **variables,
    )
    return run_cli(args, cwd=ROOT, env=env, timeout=180)


async def _seed(conn: asyncpg.Connection) -> tuple[list[str], str]:
    """Three patients with a due pending message each, one sent and one future message."""
    await migrate(conn)
    due = []
    for number in range(3):
        patient = await factories.create_patient(
            conn,
            contacts={"telegram": str(555000 + number)},
            quiet_start=MIDNIGHT,
            quiet_end=MIDNIGHT,
        )
        text = f"Pending before the backup {number}"
        await factories.create_message(conn, patient["id"], message_content=text)
        due.append(text)
    await factories.create_message(
        conn,
        patient["id"],
        message_content="Already sent",
        status="sent",
        sent_at=datetime.now(UTC),
    )
    await factories.create_message(
        conn,
        patient["id"],
        message_content="Tomorrow",
        scheduled_time=datetime.now(UTC) + timedelta(days=1),
    )
    return due, str(patient["id"])


@pytest.mark.slow
async def test_restored_backup_of_a_running_database_sends_its_pending_messages(
    tmp_path: Path,
    outside_tmp_path: Path,
    fake_telegram: FakeTelegram,  # noqa: F811
) -> None:
    source_dir, restored_dir, dump = (
        outside_tmp_path / "source",
        outside_tmp_path / "restored",
        tmp_path / "b.dump",
    )
    source = EmbeddedPostgres(source_dir)
    conn = await asyncpg.connect(source.start())
    try:
        due, _ = await _seed(conn)
        # The server runs and a session is open (as web and worker would be) during the backup.
        async with conn.transaction():
            await conn.execute("select count(*) from scheduled_messages")
            backed_up = await asyncio.to_thread(medremind, "backup", str(dump), data_dir=source_dir)
        assert backed_up.returncode == 0, backed_up.stderr
        # Written after the dump began: not in the backup.
        await conn.execute("update patients set display_name = 'After the backup'")
    finally:
        await conn.close()
        source.stop()

    again = medremind("backup", str(dump), data_dir=source_dir)
    assert again.returncode == 1 and "already exists" in again.stderr

    restored = medremind("restore", str(dump), data_dir=restored_dir)
    assert restored.returncode == 0, restored.stderr
    refused = medremind("restore", str(dump), data_dir=restored_dir)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "--force" in refused.stderr

    log = (tmp_path / "worker.log").open("wb")
    worker = spawn_cli(
        ["worker"],
        cwd=ROOT,
        env=service_env(
            MEDREMIND_DATA_DIR=str(restored_dir),
            MEDREMIND_QUIET_HOURS_START="00:00",
            MEDREMIND_QUIET_HOURS_END="00:00",
            MEDREMIND_PLANNER_INTERVAL="3600",
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE_URL=fake_telegram.base_url,
        ),
        stdout=log,
        stderr=log,
    )
    try:
        calls = await fake_telegram.wait_for_calls(3, method="sendMessage", timeout=90)
        assert sorted(call.text or "" for call in calls) == due
        copy = EmbeddedPostgres(restored_dir)  # joins the server the worker runs
        conn = await asyncpg.connect(copy.start())
        try:
            # The worker records a send just after the Bot API answered it: wait for the record.
            for _ in range(600):
                statuses = dict(
                    await conn.fetch("select message_content, status from scheduled_messages")
                )
                if "processing" not in statuses.values():
                    break
                await asyncio.sleep(0.1)
            names = {
                r["display_name"] for r in await conn.fetch("select display_name from patients")
            }
        finally:
            await conn.close()
            copy.stop()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert statuses == {**dict.fromkeys(due, "sent"), "Already sent": "sent", "Tomorrow": "pending"}
    assert names == {"Test Patient"}
    assert len(fake_telegram.sent_messages) == 3  # the sent one was not sent again


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump on PATH")
def test_a_failed_backup_says_why_and_leaves_no_file(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = tmp_path / "x.dump"
    result = medremind(
        "backup",
        str(target),
        data_dir=tmp_path / "data",
        DATABASE_URL=f"postgresql://ops:secret-pw@127.0.0.1:{port}/medremind",
    )
    assert result.returncode == 1
    assert "medremind backup: pg_dump failed" in result.stderr
    assert "secret-pw" not in result.stderr + result.stdout
    assert list(tmp_path.glob("x.dump*")) == []
