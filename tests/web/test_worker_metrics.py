"""Issue 16, item 4: an operator scrapes the worker's counters with web and worker as separate
processes: the web's ``/metrics`` (from the workers' heartbeats, for platforms that route only to
web) and the worker's own ``/metrics`` on ``MEDREMIND_WORKER_METRICS_PORT`` both show the sent
counter move. Messages are urgent: quiet hours never defer them, whatever the hour."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import asyncpg
import httpx

from tests.factories import create_message, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.web.processes import StartWeb, free_port, kill, start_worker


def _value(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` whose labels include ``labels`` (None if absent)."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return None


async def _scrape_until(url: str, name: str, at_least: float, log: Path, **labels: str) -> str:
    """Scrape ``url`` until the sample reaches ``at_least`` (a hang guard with a long deadline)."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient() as http:
        while True:
            try:
                text = (await http.get(url)).text
            except httpx.TransportError:
                text = ""  # the worker's server is not up yet
            value = _value(text, name, **labels)
            if value is not None and value >= at_least:
                return text
            assert time.monotonic() < deadline, (name, value, log.read_text()[-2000:])
            await asyncio.sleep(0.2)


async def test_the_sent_counter_moves_in_the_webs_and_the_workers_metrics(
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
) -> None:
    web, base = await web_process()
    port = free_port()
    worker = start_worker(
        database_url,
        tmp_path,
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=fake_telegram.base_url,
        MEDREMIND_WORKER_METRICS_PORT=str(port),
        MEDREMIND_WORKER_HEARTBEAT_SECONDS="0.5",
    )
    log = tmp_path / "worker.log"
    try:
        own = f"http://127.0.0.1:{port}/metrics"
        fleet = f"{base}/metrics"
        await _scrape_until(fleet, "medremind_fleet_workers_alive", 1, log)
        before = _value(
            (await _scrape_until(own, "medremind_sends_in_flight", 0, log)),
            "medremind_messages_sent_total",
            channel="telegram",
        )
        assert before in (None, 0.0)
        patient = await create_patient(admin_conn, contacts={"telegram": "5550101"})
        for _ in range(3):
            await create_message(admin_conn, patient["id"], urgent=True)
        await _scrape_until(own, "medremind_messages_sent_total", 3, log, channel="telegram")
        text = await _scrape_until(
            fleet, "medremind_fleet_messages_sent_total", 3, log, channel="telegram", via="provider"
        )
        assert len(fake_telegram.sent_messages) == 3
        silent = _value(text, "medremind_fleet_worker_silent_seconds")
        assert silent is not None and silent < 60
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)
        kill(web)
