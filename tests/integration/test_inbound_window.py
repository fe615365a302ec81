"""The WhatsApp 24-hour window is read from stored inbound messages, for any chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from core.db import Database
from core.inbound_window import LastInboundLookup
from platforms.base import OutboundMessage
from platforms.whatsapp import WhatsAppSender
from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.fixtures import fake_twilio  # noqa: F401

NUMBER = "+14155550142"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
REMINDER = OutboundMessage(text="Time for your 8:00 PM dose.", kind="medication_reminder")


async def _store_inbound(conn: asyncpg.Connection, chat: str, at: datetime) -> None:
    await conn.execute(
        "insert into inbound_messages (channel, provider_message_id, chat_address, payload,"
        " received_at) values ('whatsapp', $1, $2, '{}', $3)",
        f"SM{at.timestamp():.0f}{chat[-4:]}",
        chat,
        at,
    )


def _sender(server: FakeTwilio, lookup: LastInboundLookup) -> WhatsAppSender:
    return WhatsAppSender(
        server.account_sid,
        server.auth_token,
        from_number="whatsapp:+15017122661",
        content_sids={"medication_reminder": "HXreminder"},
        last_inbound_at=lookup,
        clock=lambda: NOW,
        api_base_url=server.base_url,
    )


async def test_lookup_returns_the_latest_inbound_of_that_chat(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    lookup = LastInboundLookup(db)
    assert await lookup(NUMBER) is None
    await _store_inbound(admin_conn, NUMBER, NOW - timedelta(hours=30))
    await _store_inbound(admin_conn, NUMBER, NOW - timedelta(hours=2))
    await _store_inbound(admin_conn, "+14155550999", NOW - timedelta(minutes=1))
    assert await lookup(NUMBER) == NOW - timedelta(hours=2)


async def test_free_text_inside_the_window_template_outside(
    db: Database,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,  # noqa: F811
) -> None:
    sender = _sender(fake_twilio, LastInboundLookup(db))
    try:
        await sender.send(NUMBER, REMINDER)  # never wrote: outside the window
        await _store_inbound(admin_conn, NUMBER, NOW - timedelta(hours=3))
        await sender.send(NUMBER, REMINDER)  # wrote 3 h ago: inside
    finally:
        await sender.aclose()
    outside, inside = fake_twilio.messages
    assert outside.content_sid == "HXreminder" and outside.body is None
    assert inside.content_sid is None and inside.body == REMINDER.text


async def test_before_the_pool_opens_nothing_is_known(settings) -> None:
    assert await LastInboundLookup(Database(settings))(NUMBER) is None
