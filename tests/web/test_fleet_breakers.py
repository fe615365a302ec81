"""``medremind check`` shows the fleet's circuit breakers (issue 16): a real ``medremind worker``
whose Twilio account keeps failing, its heartbeats, and ``medremind check`` as a process."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import asyncpg

from medremind.check import ALIVE_SECONDS
from medremind.check_breakers import read_breakers
from medremind.web.fleet_metrics import fleet_metrics
from tests.acceptance.test_cli import _clean_env, _run
from tests.factories import create_message, create_patient
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.processes import running_worker, twilio_env


async def _heartbeat_breakers(conn: asyncpg.Connection, opened: bool) -> None:
    """Wait until the worker's heartbeat shows an open breaker (or none), and so does the
    fleet's table ``check`` reads (synced once a second: a check started at once, as a forked
    one is, read it before the sync); a hang guard."""
    deadline = time.monotonic() + 90
    while True:
        rows = await conn.fetch(
            "select breakers::text, jsonb_array_length(breakers) > 0 as open from worker_heartbeats"
        )
        fleet = await read_breakers(conn, ALIVE_SECONDS)
        if rows and any(r["open"] for r in rows) == opened and bool(fleet) == opened:
            return
        assert time.monotonic() < deadline, [dict(r) for r in rows]
        await asyncio.sleep(0.2)


async def test_check_shows_the_fleets_circuit_breakers(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """Issue 16: a breaker's state was only on its worker's own /metrics. Each worker's heartbeat
    now carries its breakers, and check prints the fleet's: none heard from; a worker whose
    Twilio account keeps failing (open, attempts unspent); the probe succeeded (closed)."""
    with FakeTwilio() as twilio:
        twilio_vars = twilio_env(twilio)
        check_env = _clean_env(DATABASE_URL=database_url, MEDREMIND_DATA_DIR=str(tmp_path))
        check_env |= twilio_vars
        nobody = await asyncio.to_thread(_run, ["check"], check_env)
        assert "Breakers: all closed - none open in the fleet" in nobody.stdout

        twilio.fail_next_server_error(503, times=100)  # Twilio is down
        worker_vars = twilio_vars | {
            "MEDREMIND_WORKER_HEARTBEAT_SECONDS": "0.5",
            "MEDREMIND_BREAKER_THRESHOLD": "3",
            "MEDREMIND_BREAKER_COOLDOWN_SECONDS": "15",
        }
        async with running_worker(database_url, tmp_path, **worker_vars) as log:
            patient = await create_patient(admin_conn, contacts={"sms": "+14155550123"})
            for _ in range(3):
                await create_message(admin_conn, patient["id"], urgent=True)
            await _heartbeat_breakers(admin_conn, opened=True)
            opened = await asyncio.to_thread(_run, ["check"], check_env)
            assert opened.returncode == 0, opened.stdout + log.read_text()[-2000:]
            line = next(x for x in opened.stdout.splitlines() if x.startswith("Breakers:"))
            # The account's label: the sender's number is not printed.
            assert line.startswith("Breakers: OPEN - sms account sms:…0006 since "), line
            # 3, or a send already past the breaker when it opened failed too.
            assert re.search(
                r"its messages wait \(attempts unspent\) until .* UTC \(in \d+ s\): the provider"
                r" keeps failing \([345] consecutive failure\(s\)\); no probe out$",
                line,
            ), line
            metrics = await fleet_metrics(admin_conn)
            # The label the logs use (UTF-8 "…0006"): the sender's number is no metric label.
            assert b'medremind_fleet_breaker_open{account="sms:\xe2\x80\xa60006",channel="sms"' in (
                metrics
            )
            assert b"+15005550006" not in metrics

            # Twilio is back. A new message waits for the breaker's probe, which succeeds: closed.
            refused = [c for c in twilio.calls if c.status == 503]
            twilio.reset()
            waiting = await create_message(admin_conn, patient["id"], urgent=True)
            await _heartbeat_breakers(admin_conn, opened=False)
            deadline = time.monotonic() + 60
            while (
                await admin_conn.fetchval(
                    "select status from scheduled_messages where id = $1", waiting["id"]
                )
                != "sent"
            ):
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                await asyncio.sleep(0.2)
            closed = await asyncio.to_thread(_run, ["check"], check_env)
            logged = log.read_text()
        assert "Breakers: all closed - none open in the fleet" in closed.stdout
        # One log line per change of state, none per failed send; no phone number in them.
        changes = [
            json.loads(x)
            for x in logged.splitlines()
            if x.startswith("{") and '"scheduler.breaker"' in x
        ]
        assert [(x["level"], x["channel"], x["account"]) for x in changes] == [
            ("WARNING", "sms", "sms:…0006"),
            ("INFO", "sms", "sms:…0006"),
        ], changes
        assert "+15005550006" not in logged and "+14155550123" not in logged
        # The failures that opened it, and sends already past the breaker when it opened.
        assert 3 <= len(refused) <= 5
