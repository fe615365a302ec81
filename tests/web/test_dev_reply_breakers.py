"""``medremind dev``'s chat replies take the web process's path, behind the fleet's circuit
breakers (medremind/dev.py ``chat_context``, medremind/web/reply_breakers.py).

The dev process answered the console and its long-polled Telegram bots through senders of its
own: a revoked bot token was tried again for every reply, each spent an attempt, and no breaker
opened, unlike production's web process. Here dev's own long-polling loop
(``telegram_polling``) reads updates from the loopback Bot API, whose token is revoked: the
first reply opens the breaker for the fleet and waits, pending, for the worker; the next is
held without a call to the Bot API.
"""

from __future__ import annotations

import asyncio

import asyncpg

from core.db import Database
from core.settings import Settings
from medremind.dev import chat_context, telegram_polling
from tests.fakes.fake_telegram import FakeTelegram, text_update
from tests.waiting import eventually
from tests.web.conftest import make_app

CHAT = 555200140


async def test_dev_replies_wait_behind_the_fleets_breakers(
    web_settings: Settings,
    db: Database,
    senders: dict,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    fake_telegram.fail_next(401, "Unauthorized", method="sendMessage", times=10_000)
    ctx = chat_context(make_app(web_settings, db, senders), web_settings)
    stop = asyncio.Event()
    polling = asyncio.create_task(telegram_polling(ctx, stop))
    try:
        fake_telegram.queue_update(text_update(CHAT, "/help"))
        await eventually(lambda: admin_conn.fetchval("select refused from provider_breakers"))
        await eventually(lambda: _held(admin_conn, 1, []))
        tried = len(fake_telegram.calls_to("sendMessage", ok_only=False))
        assert tried == 1

        # The next turn's replies: held for the worker without a call on the refused token
        # (the first turn's, unsent, are superseded by them: a newer reply to the chat).
        first_turn = [r["id"] for r in await admin_conn.fetch("select id from scheduled_messages")]
        fake_telegram.queue_update(text_update(CHAT, "/help"))
        await eventually(lambda: _held(admin_conn, 1, first_turn))
        assert len(fake_telegram.calls_to("sendMessage", ok_only=False)) == tried
    finally:
        stop.set()
        await asyncio.wait_for(polling, 30)


async def _held(conn: asyncpg.Connection, at_least: int, before: list[object]) -> bool:
    """At least ``at_least`` replies written (not counting ``before``), each pending with its
    attempts unspent and saying the circuit is open."""
    rows = await conn.fetch(
        "select status, attempts, last_error from scheduled_messages where id <> all($1)", before
    )
    return len(rows) >= at_least and all(
        (r["status"], r["attempts"]) == ("pending", 0) and "circuit open" in (r["last_error"] or "")
        for r in rows
    )
