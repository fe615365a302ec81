"""The web process's reply breakers with several Telegram bots (platforms/telegram_bots.py):
a reply is held by, and opens, the breaker of the bot that sends it, never another bot's.

Two bots on one loopback Bot API (the default and bot B, ``MEDREMIND_TELEGRAM_BOTS``); bot B's
token is revoked (BotFather's /revoke: 401 to each of its calls), the default's works."""

from __future__ import annotations

import asyncpg
import httpx

from tests.fakes.fake_telegram import FakeTelegram, text_update
from tests.web.conftest import WEBHOOK_SECRET
from tests.web.test_telegram_bots import (  # noqa: F401  (fixtures)
    BOT_B,
    BOT_B_TOKEN,
    DEFAULT_BOT,
    SECRET_HEADER,
    bots_settings,
    bots_web,
    sent_by,
    to_bot_b,
    two_bots,
)

CHAT = 555200090


async def test_a_revoked_bot_holds_its_own_replies_not_the_default_bots(
    bots_web: httpx.AsyncClient,  # noqa: F811
    two_bots: FakeTelegram,  # noqa: F811
    admin_conn: asyncpg.Connection,
) -> None:
    two_bots.fail_next(401, "Unauthorized", token=BOT_B_TOKEN, times=10_000)
    assert (await to_bot_b(bots_web, text_update(CHAT, "/help"))).status_code == 200
    breakers = await admin_conn.fetch("select account, refused from provider_breakers")
    assert [(r["account"], r["refused"]) for r in breakers] == [
        (f"telegram:{BOT_B}", "Telegram rejected the bot token")
    ]
    held = await admin_conn.fetch(
        "select status, attempts, last_error from scheduled_messages"
        " where payload->>'telegram_bot' = $1",
        BOT_B,
    )
    assert held and all(r["status"] == "pending" and r["attempts"] == 0 for r in held), held

    # The same person writes to the default bot: its token works, its breaker is closed.
    response = await bots_web.post(
        "/telegram/webhook",
        json=text_update(CHAT, "/help"),
        headers={SECRET_HEADER: WEBHOOK_SECRET},
    )
    assert response.status_code == 200
    assert sent_by(two_bots, CHAT) == [DEFAULT_BOT]
    assert await admin_conn.fetchval("select count(*) from provider_breakers") == 1
