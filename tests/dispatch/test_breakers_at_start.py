"""A worker that starts while the fleet holds a provider account's circuit breaker open sends
nothing to that account, not even once before its first read of ``provider_breakers``.

The breaker sync is a housekeeping job that runs beside the dispatcher: before, the first claim
(a message already due) could reach the provider before the job's first read. ``serve`` now
reads the table once before the dispatcher starts (medremind/worker_process.py).

The real worker's body (``serve``, its own senders from the settings) against a loopback Bot API
and real PostgreSQL; the breaker is the row another worker would have written.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from core.settings import load_settings
from medremind.worker_process import serve
from tests.factories import create_message, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fixtures import fake_telegram  # noqa: F401 (the fixture)
from tests.waiting import eventually

SENDS_WITHIN = 2.0
ACCOUNT = f"telegram:{DEFAULT_TOKEN.split(':')[0]}"


async def test_a_starting_worker_holds_an_account_the_fleet_holds_open(
    database_url: str,
    tmp_path: Path,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,  # noqa: F811 (the fixture)
) -> None:
    # Another worker found the provider failing: open for the fleet for ten minutes (not a
    # refusal, whose cooldown a starting process ends to try its new credentials at once).
    await admin_conn.execute(
        "insert into provider_breakers (account, channel, open_until, cooldown_seconds,"
        " failures, opened_by) values ($1, 'telegram', now() + interval '10 minutes', 600, 5,"
        " 'worker-a')",
        ACCOUNT,
    )
    patient = await create_patient(admin_conn, contacts={"telegram": "731500601"})
    message = await create_message(admin_conn, patient["id"], urgent=True)
    worker_settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "MEDREMIND_DATA_DIR": str(tmp_path / "data"),
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        }
    )
    stop = asyncio.Event()
    # The worker's first read of the table held back (a slow database): the race its sync job
    # used to run against the first claim, lost every time. Readers of the table pass; the
    # exchange's writes wait.
    blocker = await asyncpg.connect(database_url)
    await blocker.execute("begin; lock table provider_breakers in share mode")
    worker = asyncio.create_task(serve(worker_settings, install_signal_handlers=False, stop=stop))
    try:
        await asyncio.sleep(SENDS_WITHIN)  # a worker that claims sends the due message by now
        assert fake_telegram.calls_to("sendMessage", ok_only=False) == []
        await blocker.execute("rollback")

        async def held() -> bool:
            error = await admin_conn.fetchval(
                "select last_error from scheduled_messages where id = $1 and status = 'pending'",
                message["id"],
            )
            return error is not None and "circuit open" in error

        await eventually(held, timeout=60)
    finally:
        await blocker.close()
        stop.set()
        assert await asyncio.wait_for(worker, 60) == 0
    assert fake_telegram.calls_to("sendMessage", ok_only=False) == []
    row = await admin_conn.fetchrow(
        "select status, attempts from scheduled_messages where id = $1", message["id"]
    )
    assert (row["status"], row["attempts"]) == ("pending", 0)
