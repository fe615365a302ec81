"""``medremind web`` as a real process: serves on $PORT, registers the Telegram webhook with its
secret and update types, stores a webhook update, and exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram, text_update
from tests.web.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET, count
from tests.web.processes import start_web, stop, wait_until_up


def _assert_json_logs_without_secrets(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("{") for line in lines)
    assert DEFAULT_TOKEN not in stderr
    assert WEBHOOK_SECRET not in stderr


async def test_web_process_registers_webhook_serves_and_stops_on_sigterm(
    database_url: str, tmp_path: Path, fake_telegram: FakeTelegram, admin_conn
):
    process, base = start_web(
        database_url, tmp_path, fake_telegram, PUBLIC_BASE_URL=PUBLIC_BASE_URL
    )
    try:
        await wait_until_up(base, process)
        [call] = fake_telegram.calls_to("setWebhook")
        assert call.params["url"] == PUBLIC_BASE_URL + "/telegram/webhook"
        assert call.params["secret_token"] == WEBHOOK_SECRET
        assert set(call.params["allowed_updates"]) == {
            "message",
            "edited_message",
            "callback_query",
            "my_chat_member",
        }

        async with httpx.AsyncClient(base_url=base) as http:
            response = await http.post(
                "/telegram/webhook",
                json=text_update(555000999, "/start"),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
            assert response.status_code == 200
            assert (await http.get("/readyz")).status_code == 200
        assert await count(admin_conn, "inbound_messages") == 1

        # The logs are JSON lines and never carry the bot token or the webhook secret.
        _assert_json_logs_without_secrets(await stop(process, timeout=30))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    """The process's command line; empty once it is gone (a killed worker listed a moment
    before: reading its /proc entry raced its reaping, FileNotFoundError in CI)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


async def test_web_concurrency_runs_workers_on_one_port_and_stops_on_sigterm(
    database_url: str, tmp_path: Path, fake_telegram: FakeTelegram, admin_conn
):
    process, base = start_web(
        database_url, tmp_path, fake_telegram, WEB_CONCURRENCY="2", PUBLIC_BASE_URL=PUBLIC_BASE_URL
    )
    try:
        await wait_until_up(base, process)
        # The supervisor registered the webhook once, not once per worker.
        assert len(fake_telegram.calls_to("setWebhook")) == 1
        # Workers are spawned processes (multiprocessing's resource tracker is a child too).
        workers = [pid for pid in _children(process.pid) if b"spawn_main" in _cmdline(pid)]
        assert len(workers) == 2

        async def post(chat: int) -> int:
            # A connection each, so the kernel can hand them to either worker.
            async with httpx.AsyncClient(base_url=base) as http:
                response = await http.post(
                    "/telegram/webhook",
                    json=text_update(chat, "/start"),
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                )
                return response.status_code

        statuses = await asyncio.gather(*(post(555001000 + i) for i in range(20)))
        assert statuses == [200] * 20
        assert await count(admin_conn, "inbound_messages") == 20

        stderr = await stop(process, timeout=60)
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        _assert_json_logs_without_secrets(stderr)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_web_concurrency_replaces_a_worker_that_dies(
    database_url: str, tmp_path: Path, fake_telegram: FakeTelegram
):
    """A worker killed (SIGKILL: the OOM killer, an operator) is replaced whenever it dies, while
    still starting too: a 10-second start-up window made a worker killed 7 s after its spawn on
    a loaded machine stop the whole dyno (found in an operator drill)."""
    process, base = start_web(database_url, tmp_path, fake_telegram, WEB_CONCURRENCY="2")

    def workers() -> list[int]:
        return [pid for pid in _children(process.pid) if b"spawn_main" in _cmdline(pid)]

    async def replaced(dead: int, alive: int | None) -> list[int]:
        for _ in range(300):
            current = workers()
            if len(current) == 2 and dead not in current:
                break
            await asyncio.sleep(0.1)
        assert len(current) == 2 and dead not in current
        assert alive is None or alive in current
        return current

    try:
        for _ in range(300):  # both spawned; neither serves yet (imports take seconds)
            if len(workers()) == 2:
                break
            await asyncio.sleep(0.02)
        starting = workers()
        assert len(starting) == 2
        os.kill(starting[0], signal.SIGKILL)
        await replaced(starting[0], None)
        await wait_until_up(base, process)
        assert process.poll() is None

        first = workers()
        os.kill(first[0], signal.SIGKILL)  # and a worker that serves
        await replaced(first[0], first[1])
        await wait_until_up(base, process)
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/healthz")).status_code == 200

        await stop(process, timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
