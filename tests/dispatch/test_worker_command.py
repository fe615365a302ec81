"""``medremind worker`` itself: real senders from the registry, LISTEN wake-up, a clean exit on
SIGTERM, and the outbox: marked as such where it is on, refused where it is off (issue 16)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests import factories
from tests.cli_processes import spawn_cli
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.ports import free_port
from tests.process_env import service_env

ROOT = Path(__file__).resolve().parents[2]
FINISHED = ("sent", "delivered", "failed", "cancelled", "expired")


@contextmanager
def _worker(tmp_path: Path, **variables: str) -> Iterator[subprocess.Popen[bytes]]:
    """``medremind worker`` with ``service_env(**variables)``; killed if still running."""
    log = (tmp_path / "worker.log").open("wb")
    proc = spawn_cli(
        ["worker"],
        cwd=ROOT,
        env=service_env(**variables),
        stdout=log,
        stderr=log,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def _finished(
    conn: asyncpg.Connection, message_id: Any, tmp_path: Path, timeout: float = 60
) -> asyncpg.Record:
    deadline = time.monotonic() + timeout
    while True:
        row = await conn.fetchrow("select * from scheduled_messages where id = $1", message_id)
        if row["status"] in FINISHED:
            return row
        assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
        await asyncio.sleep(0.1)


async def test_medremind_worker_sends_to_the_outbox_and_stops_on_sigterm(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    """Enabled (MEDREMIND_OUTBOX_ENABLED=true, as service_env sets it), the outbox writes the
    e-mail as a file, and the row, its attempt and the sent counter all say 'outbox'."""
    outbox = tmp_path / "outbox"
    metrics_port = free_port()
    with _worker(
        tmp_path,
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp_path / "data"),
        MEDREMIND_OUTBOX_DIR=str(outbox),
        MEDREMIND_OUTBOX_ENABLED="true",
        MEDREMIND_DB_POOL_MAX="4",
        MEDREMIND_PLANNER_INTERVAL="3600",
        MEDREMIND_WORKER_METRICS_PORT=str(metrics_port),
    ) as proc:
        patient = await factories.create_patient(admin_conn, contacts={"email": "pat@example.org"})
        await asyncio.sleep(1)  # usually idle by now: the insert's NOTIFY wakes it
        msg = await factories.create_message(
            admin_conn, patient["id"], urgent=True, message_content="Outbox check"
        )
        row = await _finished(admin_conn, msg["id"], tmp_path)
        assert row["status"] == "sent", (tmp_path / "worker.log").read_text()
        assert row["via_outbox"] is True and row["channel_used"] == "email"
        attempt = await admin_conn.fetchrow(
            "select status, channel, via_outbox from message_delivery_attempts"
            " where message_id = $1",
            msg["id"],
        )
        assert dict(attempt) == {"status": "sent", "channel": "email", "via_outbox": True}
        assert any(outbox.rglob("*.eml"))
        async with httpx.AsyncClient() as client:
            scraped = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        assert 'medremind_messages_sent_total{channel="email",via="outbox"} 1.0' in scraped
        assert 'via="provider"' not in scraped
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        text = (tmp_path / "worker.log").read_text()
        assert "pat@example.org" not in text and "Outbox check" not in text


async def test_without_the_outbox_a_channel_without_credentials_is_skipped_or_fails_saying_why(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    """Issue 16: a worker without SMTP or Twilio credentials wrote to the outbox and marked the
    row 'sent'. Off (the default outside `medremind dev`), such a channel has no sender: a
    patient whose SMS comes first gets the Telegram message (a real send, not 'outbox'), and a
    patient reachable only by e-mail gets a failed message that says why; no file is written."""
    outbox = tmp_path / "outbox"
    with (
        FakeTelegram(token=DEFAULT_TOKEN) as telegram,
        _worker(
            tmp_path,
            DATABASE_URL=database_url,
            MEDREMIND_DATA_DIR=str(tmp_path / "data"),
            MEDREMIND_OUTBOX_DIR=str(outbox),
            MEDREMIND_OUTBOX_ENABLED="false",
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            MEDREMIND_DB_POOL_MAX="4",
            MEDREMIND_PLANNER_INTERVAL="3600",
        ),
    ):
        both = await factories.create_patient(
            admin_conn, contacts={"sms": "+14155550123", "telegram": "424242"}
        )
        email_only = await factories.create_patient(
            admin_conn, contacts={"email": "only@example.org"}
        )
        fell_back = await factories.create_message(admin_conn, both["id"], urgent=True)
        refused = await factories.create_message(
            admin_conn, email_only["id"], urgent=True, platform="email"
        )
        sent = await _finished(admin_conn, fell_back["id"], tmp_path)
        assert (sent["status"], sent["channel_used"], sent["via_outbox"]) == (
            "sent",
            "telegram",
            False,
        )
        assert [c.chat_id for c in telegram.sent_messages] == [424242]
        failed = await _finished(admin_conn, refused["id"], tmp_path)
        assert failed["status"] == "failed" and failed["via_outbox"] is False
        assert failed["last_error"].startswith("channel email is not configured")
        assert "outbox folder is off" in failed["last_error"]
        assert "MEDREMIND_OUTBOX_ENABLED" in failed["last_error"]
        attempt = await admin_conn.fetchrow(
            "select status, error_class, error_message from message_delivery_attempts"
            " where message_id = $1",
            refused["id"],
        )
        assert (attempt["status"], attempt["error_class"]) == ("failed", "config")
        assert attempt["error_message"] == failed["last_error"]
        assert not outbox.exists() or not any(outbox.iterdir())


async def test_sigterm_during_a_planner_tick_stops_it_quietly(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    """A worker stopped while a housekeeping job runs (its planner tick, waiting here on a lock
    that another session holds on ``reminder_schedules``) exits 0 without an ERROR: APScheduler
    logged the cancelled tick as 'Job ... raised an exception' with a CancelledError traceback
    (found by hand: ``make dev`` from a clean clone ending during its first tick)."""
    holder = await asyncpg.connect(database_url)
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("lock table reminder_schedules in access exclusive mode")
    # Nothing else of the worker's reads that table (its text is cut to 1 KB in the view, before
    # the table's name).
    waiting = (
        "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
        " and datname = current_database() and pid <> pg_backend_pid()"
    )
    try:
        with _worker(
            tmp_path,
            DATABASE_URL=database_url,
            MEDREMIND_DATA_DIR=str(tmp_path / "data"),
            MEDREMIND_DB_POOL_MAX="4",
        ) as proc:
            deadline = time.monotonic() + 60
            while await admin_conn.fetchval(waiting) == 0:
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                await asyncio.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        await transaction.rollback()
        await holder.close()
    text = (tmp_path / "worker.log").read_text()
    assert '"level": "ERROR"' not in text, text
    assert "job stopped by the shutdown" in text
