"""The web process's own replies on a revoked Telegram bot token (BotFather's /revoke: 401 to
every call): the first refusal opens the bot's breaker for the fleet (one WARNING line, no token,
chat or text), the patient's next messages' replies are not sent on the refused token but held
for the dispatcher, attempts unspent, the reason on each row; a real ``medremind worker`` holds
them too, probes, and sends each once, in order, when the token works again; the web process
then sends its replies itself again."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from core.messages import OutboundMessage
from core.settings import Settings
from medremind.web.app import create_app
from medremind.web.reply_breakers import ReplyBreakers
from platforms.base import Channel
from scheduler.breaker import BreakerHeldError, Breakers
from scheduler.fleet_breakers import FleetBreakers
from tests.factories import create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.web.chat import telegram_text
from tests.web.conftest import make_client
from tests.web.processes import kill, start_telegram_worker, until

CHAT = 731500601


@pytest.fixture
async def web_1s(
    web_settings: Settings, db: Database, senders: dict
) -> AsyncIterator[httpx.AsyncClient]:
    """``web`` with the workers' 1-second breaker cooldown of this test, on the real clock
    (the worker process's: a reply expires by it)."""
    settings = web_settings.model_copy(update={"breaker_cooldown_seconds": 1.0})
    app = create_app(settings, database=db, senders=senders, detach_processing=False)
    async with make_client(app) as http:
        yield http


async def _replies(conn: asyncpg.Connection, patient: object) -> list[asyncpg.Record]:
    return await conn.fetch(
        "select status, attempts, last_error from scheduled_messages where patient_id = $1"
        " order by created_at, id",
        patient,
    )


async def test_replies_on_a_revoked_token_wait_for_it_and_go_once(
    web_1s: httpx.AsyncClient,
    database_url: str,
    admin_conn: asyncpg.Connection,
    tmp_path: Path,
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fake_telegram.fail_next(401, "Unauthorized", times=10_000)
    patient = await create_patient(admin_conn, contacts={"telegram": str(CHAT)})
    for _ in range(3):
        await telegram_text(web_1s, CHAT, "/help")

    # One call found the token refused; the replies after it never reached the Bot API.
    assert len(fake_telegram.calls) == 1, [c.method for c in fake_telegram.calls]
    rows = await _replies(admin_conn, patient["id"])
    held = [r for r in rows if r["status"] == "pending"]
    # Held, attempts unspent, the reason on the row; an older answer still held when a newer
    # one came is superseded by it (bot.reply_rows: the chat gets the latest, not a backlog).
    assert held and all(r["attempts"] == 0 for r in held), [dict(r) for r in rows]
    assert all("refused the account's credentials" in r["last_error"] for r in held), held
    assert {r["status"] for r in rows} <= {"pending", "expired"}
    assert all("superseded" in r["last_error"] for r in rows if r["status"] == "expired")
    breaker = await admin_conn.fetchrow("select refused, opened_by from provider_breakers")
    assert breaker["refused"] == "Telegram rejected the bot token"
    assert breaker["opened_by"].startswith("web:")
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.getMessage()) for r in warnings] == [
        (
            "scheduler.breaker",
            "circuit breaker opened: the provider refused the account's credentials;"
            " sends to the account wait for its probe",
        )
    ]
    for record in caplog.records:
        logged = str(record.__dict__)
        assert DEFAULT_TOKEN not in logged and str(CHAT) not in logged

    # The new token is in: the worker's probe finds it working and sends the replies once.
    fake_telegram.reset()
    worker: subprocess.Popen = start_telegram_worker(
        database_url, tmp_path, fake_telegram, MEDREMIND_BREAKER_COOLDOWN_SECONDS="1"
    )
    log = tmp_path / "worker.log"
    try:

        async def all_sent() -> bool:
            statuses = {r["status"] for r in await _replies(admin_conn, patient["id"])}
            return "pending" not in statuses and "processing" not in statuses

        await until("the held replies sent", all_sent, log, 60)
        await until(
            "the breaker closed for the fleet",
            lambda: admin_conn.fetchval("select count(*) = 0 from provider_breakers"),
            log,
        )
        worker.terminate()
        assert await asyncio.to_thread(worker.wait, 30) == 0
    finally:
        kill(worker)
    sent = [c.text for c in fake_telegram.sent_messages if c.chat_id == CHAT]
    assert len(sent) == len(held)  # each held reply once, none lost
    assert [r["status"] for r in await _replies(admin_conn, patient["id"])].count("sent") == len(
        held
    )

    # The web process reads the closing within a second and answers itself again.
    await asyncio.sleep(1.1)
    await telegram_text(web_1s, CHAT, "/help")
    rows = await _replies(admin_conn, patient["id"])
    assert rows[-1]["status"] == "sent", rows[-1]
    assert len([c for c in fake_telegram.sent_messages if c.chat_id == CHAT]) == len(held) + 1


async def test_replies_wait_while_a_worker_finds_the_provider_failing(
    db: Database, web_settings: Settings, senders: dict, fake_telegram: FakeTelegram
) -> None:
    """A worker's breaker opened by the Bot API's 5xx (not a refusal) holds the web process's
    replies too, from its next read of the table: no call; its probe's success frees them."""
    assert db.pool is not None
    worker = FleetBreakers(Breakers(threshold=1), "worker:1")
    worker.breakers.failure("telegram:123456", "telegram")  # the worker's send got a 502
    await worker.sync(db.pool)
    web = ReplyBreakers(db.pool, web_settings)
    telegram = web.wrap("telegram", senders[Channel.TELEGRAM])
    with pytest.raises(BreakerHeldError) as held:
        await telegram.send(str(CHAT), OutboundMessage(text="Noted."))
    assert str(held.value) == (
        "telegram: the provider keeps failing; waiting until it works again (circuit open),"
        " attempts unspent"
    )
    assert fake_telegram.calls == []

    worker.breakers.success("telegram:123456", "telegram")  # its probe went through
    await worker.sync(db.pool)
    await asyncio.sleep(1.05)  # the web process reads the table at most once a second
    await telegram.send(str(CHAT), OutboundMessage(text="Noted."))
    assert [c.text for c in fake_telegram.sent_messages] == ["Noted."]
