"""A bot reply that is no longer current is not sent late, and says why it was not sent.

Before: a reply the Bot API did not take at once (a 5xx on the web process's send and its quick
retry) was retried by the worker for up to 24 hours: a stranger whose privacy question ("Do you
agree?") failed and who wrote again read that question after the newer answer, and a reply an
outage held back came hours later. Now a newer reply to the chat supersedes the older unsent
ones, and a reply lives half an hour; both end ``expired`` with their reason (migration
20260101016950, bot/reply_rows.py). Through the web app's webhook, the worker's dispatcher and
the loopback Bot API, on one clock that is the database's (replies are stamped by ``now()``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from core.db import Database
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.chat import Clock, telegram_text, worker

CHAT = 555000951
REPLIES = """
select m.status, m.last_error, m.message_content
  from scheduled_messages m join conversations c on c.id = m.conversation_id
 where c.channel = 'telegram' and c.chat_address = $1
 order by m.created_at, m.idempotency_key
"""


def _texts(fake_telegram: FakeTelegram) -> list[str]:
    return [c.params["text"] for c in fake_telegram.sent_messages if c.chat_id == CHAT]


async def _failed_privacy_question(
    web: httpx.AsyncClient, fake_telegram: FakeTelegram, conn: asyncpg.Connection
) -> None:
    """/start from a stranger whose reply (the privacy question) the Bot API refuses twice:
    the web process's send and its one quick retry; the row waits for the worker."""
    fake_telegram.fail_next_server_error(method="sendMessage", chat_id=CHAT, times=2)
    await telegram_text(web, CHAT, "/start")
    [row] = await conn.fetch(REPLIES, str(CHAT))
    assert row["status"] == "pending" and "agree" in row["message_content"].lower()
    assert _texts(fake_telegram) == []


async def test_a_newer_reply_supersedes_an_unsent_older_one(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    chat_clock.now = datetime.now(UTC)
    await _failed_privacy_question(web, fake_telegram, admin_conn)
    await telegram_text(web, CHAT, "/help")
    [newer] = _texts(fake_telegram)
    assert "agree" not in newer.lower()
    older, latest = await admin_conn.fetch(REPLIES, str(CHAT))
    assert (older["status"], latest["status"]) == ("expired", "sent")
    assert older["last_error"] == (
        "superseded by a newer reply to the chat before it could be sent"
    )
    # The worker, a minute later (past the retry's backoff), has nothing left to send.
    chat_clock.now += timedelta(minutes=1)
    assert await worker(db, senders, chat_clock).run_once() == 0
    assert _texts(fake_telegram) == [newer]


async def test_a_reply_is_not_sent_half_an_hour_late(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    chat_clock.now = datetime.now(UTC)
    await _failed_privacy_question(web, fake_telegram, admin_conn)
    chat_clock.now += timedelta(minutes=31)
    await worker(db, senders, chat_clock).run_once()
    [row] = await admin_conn.fetch(REPLIES, str(CHAT))
    assert (row["status"], row["last_error"]) == ("expired", "expired before it could be sent")
    assert _texts(fake_telegram) == []


async def test_a_reply_still_current_is_sent_by_the_worker(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    fake_telegram: FakeTelegram,
    admin_conn: asyncpg.Connection,
) -> None:
    chat_clock.now = datetime.now(UTC)
    await _failed_privacy_question(web, fake_telegram, admin_conn)
    chat_clock.now += timedelta(minutes=5)
    assert await worker(db, senders, chat_clock).run_once() == 1
    [row] = await admin_conn.fetch(REPLIES, str(CHAT))
    assert row["status"] == "sent"
    [question] = _texts(fake_telegram)
    assert "agree" in question.lower()
