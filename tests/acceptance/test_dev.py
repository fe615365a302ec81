"""``medremind dev`` as a person runs it: chat in the terminal, receive a reminder there."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_until(proc: subprocess.Popen, needle: str, buffer: list[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        text = "".join(buffer)
        if needle in text:
            return text
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536).decode()
            if not chunk:
                break
            buffer.append(chunk)
    raise AssertionError(f"{needle!r} not printed; got:\n{''.join(buffer)}")


@pytest.mark.slow
async def test_console_chat_and_a_reminder_printed(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "SMTP_"))
    }
    env.update(
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp_path),
        PORT=str(port),
        MEDREMIND_WORKER_POLL_SECONDS="0.5",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "medremind.cli", "dev"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out: list[str] = []
    try:
        assert proc.stdin is not None
        _read_until(proc, "type /start", out)
        proc.stdin.write(b"/start\n")
        proc.stdin.flush()
        _read_until(proc, "Do you agree?", out)
        proc.stdin.write(b"1\n")
        proc.stdin.flush()
        _read_until(proc, "What should I call you?", out)

        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/healthz")
            assert health.status_code == 200

        # A clinician's message to the console patient is delivered by the worker to the terminal.
        conn = await asyncpg.connect(database_url)
        try:
            patient_id = await conn.fetchval(
                "select patient_id from conversations where channel = 'console'"
            )
            assert patient_id is not None
            message_id = await conn.fetchval(
                "insert into scheduled_messages (patient_id, message_content, platform)"
                " values ($1, 'See you on Monday at the clinic', 'console') returning id",
                patient_id,
            )
            _read_until(proc, "See you on Monday at the clinic", out)
            for _ in range(50):
                status = await conn.fetchval(
                    "select status from scheduled_messages where id = $1", message_id
                )
                if status == "sent":
                    break
                time.sleep(0.1)
            assert status == "sent"
        finally:
            await conn.close()
        proc.stdin.close()  # Ctrl-D: the process stops cleanly
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
