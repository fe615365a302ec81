"""Real ``medremind web`` (and ``worker``) processes for tests over the wire: start one on a free
port against the test database and the loopback fakes, wait for it, stop it with SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.db import Database
from medremind.api_keys import create_api_key
from tests.cli_processes import spawn_cli
from tests.factories import create_organization
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.ports import free_port
from tests.process_env import service_env
from tests.web.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET, web_env

# The output file of each web process started here, by pid.
_LOGS: dict[int, Path] = {}


async def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until ``GET /healthz`` answers 200; fails when the process exits or never answers.

    The deadline is generous: on a loaded machine (the suite runs on several pytest-xdist
    workers) a web process may take half a minute to import and migrate-check."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(base_url=base) as http:
        while loop.time() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"web process exited with {process.returncode}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"web process did not come up in {timeout:.0f} s")


# A transient failure's retry waits a random time up to MEDREMIND_RETRY_BASE_SECONDS (10 s by
# default): the tests that wait for one (a 5xx to a reply, a provider down) take it this soon.
FAST_RETRY = {"MEDREMIND_RETRY_BASE_SECONDS": "0.2"}


def twilio_env(fake_twilio: FakeTwilio) -> dict[str, str]:
    """Variables for a web process that verifies Twilio's webhooks and sends to ``fake_twilio``."""
    return {
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
    }


def start_web(
    database_url: str, tmp_path: Path, fake_telegram: FakeTelegram, **variables: str
) -> tuple[subprocess.Popen, str]:
    """``medremind web`` on a free port with the fake Bot API; returns it and its base URL."""
    port = free_port()
    env = service_env(
        **web_env(
            database_url,
            tmp_path,
            PORT=str(port),
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_BASE_URL=fake_telegram.base_url,
            **{"MEDREMIND_SHUTDOWN_GRACE": "5", **variables},
        )
    )
    # Output to a file, not a pipe: a pipe nobody reads fills up after 64 KB of log lines and
    # blocks the process in its next write.
    log_path = tmp_path / f"web-{port}.log"
    with log_path.open("wb") as log:
        process = spawn_cli(["web"], env=env, stdout=log, stderr=log)
    _LOGS[process.pid] = log_path
    return process, f"http://127.0.0.1:{port}"


def start_worker(database_url: str, tmp_path: Path, **variables: str) -> subprocess.Popen:
    """``medremind worker`` on the test database; its output goes to ``tmp_path/worker.log``."""
    env = service_env(
        **web_env(
            database_url,
            tmp_path,
            # A test may plan every second (MEDREMIND_PLANNER_INTERVAL) or stop sooner.
            **{"MEDREMIND_SHUTDOWN_GRACE": "5", "MEDREMIND_PLANNER_INTERVAL": "3600", **variables},
        )
    )
    with (tmp_path / "worker.log").open("wb") as log:
        return spawn_cli(["worker"], env=env, stdout=log, stderr=log)


@asynccontextmanager
async def running_worker(
    database_url: str, tmp_path: Path, **variables: str
) -> AsyncIterator[Path]:
    """A :func:`start_worker` process for the block; yields its log file, stops it after."""
    worker = start_worker(database_url, tmp_path, **variables)
    try:
        yield tmp_path / "worker.log"
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)


def start_telegram_worker(
    database_url: str, tmp_path: Path, fake_telegram: FakeTelegram, **variables: str
) -> subprocess.Popen:
    """:func:`start_worker` sending Telegram to ``fake_telegram``, polling every half second
    (``variables`` may name another ``TELEGRAM_BOT_TOKEN``)."""
    return start_worker(
        database_url,
        tmp_path,
        **{
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
            "MEDREMIND_WORKER_POLL_SECONDS": "0.5",
            **variables,
        },
    )


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], what: str, timeout: float = 60
) -> None:
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def until(
    what: str, check: Callable[..., Awaitable[Any]], log: Path, deadline_s: float = 90
) -> Any:
    """``await check()`` once truthy; fails with ``what`` and the log's tail after the deadline
    (a hang guard with a generous deadline for loaded machines, not a timing test)."""
    deadline = time.monotonic() + deadline_s
    while not (found := await check()):
        assert time.monotonic() < deadline, f"{what}\n{log.read_text()[-3000:]}"
        await asyncio.sleep(0.05)
    return found


def output(process: subprocess.Popen) -> str:
    """What a process of :func:`start_web` has written so far (its log lines)."""
    return _LOGS[process.pid].read_text(errors="replace")


async def stop(process: subprocess.Popen, timeout: float) -> str:
    """SIGTERM; the process must exit 0. Returns its output (stderr: the log lines)."""
    process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(process.wait, timeout=timeout)
    text = output(process)
    assert process.returncode == 0, text[-2000:]
    return text


def kill(process: subprocess.Popen) -> None:
    """End ``process`` if a test left it running."""
    if process.poll() is None:
        process.kill()
        process.wait()


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


StartWeb = Callable[..., Awaitable[tuple[subprocess.Popen, str]]]


@pytest.fixture
async def web_process(
    database_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> AsyncIterator[StartWeb]:
    """Starts ``medremind web`` with Telegram and Twilio on the fakes (plus ``variables``) and
    waits until it answers; whatever a test leaves running is killed at its end."""
    started: list[subprocess.Popen] = []

    async def start(**variables: str) -> tuple[subprocess.Popen, str]:
        # ``variables`` may override the fakes' (TWILIO_ACCOUNT_SID="": SMS to the outbox).
        process, base = start_web(
            database_url, tmp_path, fake_telegram, **(twilio_env(fake_twilio) | variables)
        )
        started.append(process)
        await wait_until_up(base, process)
        return process, base

    yield start
    for process in started:
        kill(process)


async def clinic_key(db: Database, admin_conn: asyncpg.Connection, name: str) -> tuple[Any, str]:
    """A new organization named ``name`` and an API key of it.

    The clinic has no quiet hours (start = end): with the database's default 21:00-08:00, its
    messages were held at night and tests that wait for a send failed from 21:00 UTC. A test about
    quiet hours sets them itself.
    """
    org = await create_organization(
        admin_conn, name=name, default_quiet_start=dt_time(0), default_quiet_end=dt_time(0)
    )
    assert db.pool is not None
    return org, await create_api_key(db.pool, str(org["id"]), "tests")
