"""``medremind dev`` as a person runs it: chat in the terminal, receive a reminder there."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.cli_processes import spawn_cli
from tests.ports import free_port
from tests.process_env import quiet_window_around, service_env
from tests.slow_client import SLOW_STARTS, trickle_until_closed
from tests.waiting import eventually


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


def _start_dev(
    database_url: str, tmp_path: Path, port: int, variables: Mapping[str, str | None] | None = None
) -> subprocess.Popen:
    """``medremind dev`` with ``variables`` (None: the variable is not set at all)."""
    env = service_env(
        DATABASE_URL=database_url,
        MEDREMIND_DATA_DIR=str(tmp_path),
        PORT=str(port),
        MEDREMIND_WORKER_POLL_SECONDS="0.5",
    )
    for name, value in (variables or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    # Forked with the commands imported (tests.cli_processes): ~1 CPU-s less a start.
    return spawn_cli(
        ["dev"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _say(proc: subprocess.Popen, line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()


def _begin_registration(proc: subprocess.Popen, out: list[str]) -> None:
    """/start and consent: the console patient exists (UTC, no clinic) from here on."""
    _read_until(proc, "type /start", out)
    _say(proc, "/start")
    _read_until(proc, "Do you agree?", out)
    _say(proc, "1")
    _read_until(proc, "What should I call you?", out)


def _stop(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.close()  # Ctrl-D: the process stops cleanly
    assert proc.wait(timeout=60) == 0


async def _status(conn: asyncpg.Connection, message_id: object, *wanted: str) -> str:
    status = ""
    for _ in range(100):
        status = await conn.fetchval(
            "select status from scheduled_messages where id = $1", message_id
        )
        if status in wanted:
            break
        time.sleep(0.1)
    return str(status)


@pytest.mark.slow
async def test_console_chat_and_a_reminder_printed(database_url: str, tmp_path: Path) -> None:
    """Also: `medremind dev` turns the outbox on by itself (MEDREMIND_OUTBOX_ENABLED unset, which
    `medremind worker` reads as off), and an e-mail written there is marked as such."""
    port = free_port()
    proc = _start_dev(database_url, tmp_path, port, {"MEDREMIND_OUTBOX_ENABLED": None})
    out: list[str] = []
    try:
        _begin_registration(proc, out)

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
            assert await _status(conn, message_id, "sent") == "sent"
            # No SMTP credentials: the e-mail goes to the outbox folder, marked as not received.
            await conn.execute(
                "insert into contact_points (patient_id, channel, address, verified)"
                " values ($1, 'email', 'dev@example.org', true)",
                patient_id,
            )
            emailed = await conn.fetchval(
                "insert into scheduled_messages (patient_id, message_content, platform, urgent)"
                " values ($1, 'Your results are ready', 'email', true) returning id",
                patient_id,
            )
            assert await _status(conn, emailed, "sent", "failed") == "sent"
            assert await conn.fetchval(
                "select via_outbox from scheduled_messages where id = $1", emailed
            )
            assert any((tmp_path / "outbox").glob("*.eml"))
        finally:
            await conn.close()
        _stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
async def test_quiet_hours_hold_a_clinic_message_until_morning(
    database_url: str, tmp_path: Path
) -> None:
    """Whatever the hour the suite runs at, a quiet window around now defers a non-urgent message
    to the window's end and lets an urgent one through at once."""
    port = free_port()
    now = datetime.now(UTC)
    window = quiet_window_around(now)
    proc = _start_dev(database_url, tmp_path, port, window)
    out: list[str] = []
    try:
        _begin_registration(proc, out)
        conn = await asyncpg.connect(database_url)
        try:
            patient_id = await conn.fetchval(
                "select patient_id from conversations where channel = 'console'"
            )
            routine = await conn.fetchval(
                "insert into scheduled_messages (patient_id, message_content, platform)"
                " values ($1, 'Clinic news for the morning', 'console') returning id",
                patient_id,
            )
            urgent = await conn.fetchval(
                "insert into scheduled_messages (patient_id, message_content, platform, urgent)"
                " values ($1, 'Urgent: call the clinic', 'console', true) returning id",
                patient_id,
            )
            _read_until(proc, "Urgent: call the clinic", out)
            assert await _status(conn, urgent, "sent") == "sent"
            row = await conn.fetchrow(
                "select status, scheduled_time from scheduled_messages where id = $1", routine
            )
            assert row["status"] == "pending"
            # Deferred to the window's end: the next occurrence of END (UTC) after now.
            end = datetime.strptime(window["MEDREMIND_QUIET_HOURS_END"], "%H:%M").time()
            expected = datetime.combine(now.date(), end, tzinfo=UTC)
            if expected <= now:
                expected += timedelta(days=1)
            assert row["scheduled_time"] == expected
        finally:
            await conn.close()
        assert "Clinic news for the morning" not in "".join(out)
        _stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_dev_while_the_console_waits_for_a_line(
    database_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C or SIGTERM with the terminal still open: the console's pending read kept the
    process (and an embedded PostgreSQL) alive until someone pressed Enter; a process manager
    then had to SIGKILL it. Now it exits 0 by itself."""
    proc = _start_dev(database_url, tmp_path, free_port())
    out: list[str] = []
    try:
        _read_until(proc, "type /start", out)
        proc.send_signal(sig)
        # A hang guard for a loaded machine, not a timing test; stdin stays open throughout.
        assert proc.wait(timeout=90) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_dev_long_polls_every_configured_bot(database_url: str, tmp_path: Path) -> None:
    """With MEDREMIND_TELEGRAM_BOTS, patients are sharded across the service's bots: `medremind
    dev` polled only the default bot, so a patient on bot B never got an answer. Each bot is
    polled now, and each person is answered by the bot they wrote to."""
    from tests.fakes.fake_telegram import FakeTelegram, text_update

    default_token = "111222:DEV-default-token-abcdefghijkl"
    other_token = "333444:DEV-bot-b-token-abcdefghijklmn"
    with FakeTelegram(token=None) as tg:
        proc = _start_dev(
            database_url,
            tmp_path,
            free_port(),
            {
                "TELEGRAM_BOT_TOKEN": default_token,
                "MEDREMIND_TELEGRAM_BOTS": other_token,
                "TELEGRAM_API_BASE_URL": tg.base_url,
            },
        )
        out: list[str] = []
        try:
            _read_until(proc, "type /start", out)
            tg.queue_update(text_update(5001, "/start"), token=other_token)
            tg.queue_update(text_update(5002, "/start"), token=default_token)
            deadline = time.monotonic() + 60  # a hang guard for a loaded machine
            answered: dict[int, set[str]] = {}
            while time.monotonic() < deadline and len(answered) < 2:
                answered = {}
                for call in tg.sent_messages:
                    answered.setdefault(int(call.chat_id), set()).add(call.token)
                time.sleep(0.2)
            assert answered.get(5001) == {other_token}, answered
            assert answered.get(5002) == {default_token}, answered
            polled = {c.token for c in tg.calls_to("getUpdates")}
            assert polled == {default_token, other_token}
        finally:
            _stop(proc)


async def _answers(url: str) -> bool:
    async with httpx.AsyncClient() as http:
        try:
            return (await http.get(url)).status_code == 200
        except httpx.TransportError:
            return False


async def test_dev_has_the_webs_request_deadline(database_url: str, tmp_path: Path) -> None:
    """`medremind web` disconnects a client that trickles its request past
    MEDREMIND_REQUEST_READ_SECONDS (slowloris); `medremind dev` served the same app with stock
    uvicorn and kept such a connection open as long as the client liked. Both take one
    configuration now (medremind.web.request_deadline.server_config)."""
    port = free_port()
    proc = _start_dev(database_url, tmp_path, port, {"MEDREMIND_REQUEST_READ_SECONDS": "2"})
    out: list[str] = []
    try:
        _read_until(proc, "type /start", out)
        base = f"http://127.0.0.1:{port}"
        await eventually(lambda: _answers(f"{base}/healthz"), timeout=60)
        took = await trickle_until_closed(base, SLOW_STARTS["headers"])
        assert took < 30  # a hang guard: closed at about 2 s
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/healthz")).status_code == 200
        _stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_the_patient_app_opens_from_dev_without_a_public_address(
    database_url: str, tmp_path: Path
) -> None:
    """`/app` in dev's console said the app was not available: its links need PUBLIC_BASE_URL,
    and setting that turns dev's Telegram long polling off. Without it, dev's links lead to dev
    itself now: the link printed signs the console patient in to the app on loopback."""
    port = free_port()
    proc = _start_dev(database_url, tmp_path, port, {"PUBLIC_BASE_URL": None})
    out: list[str] = []
    try:
        _begin_registration(proc, out)
        _say(proc, "/app")
        text = _read_until(proc, "#sign-in=", out)
        link = re.search(r"(http://127\.0\.0\.1:(\d+))/app/#sign-in=([\w-]+)", text)
        assert link is not None, text
        base, token = link[1], link[3]
        assert int(link[2]) == port
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/app/")).status_code == 200
            signed = await http.post("/app/api/sign-in", json={"token": token})
            assert signed.status_code == 200, signed.text
            today = await http.get("/app/api/today")
            assert today.status_code == 200, today.text
    finally:
        _stop(proc)
