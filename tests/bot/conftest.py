"""A bot wired to the loopback fake Telegram and Twilio servers, on a fresh database per test.

Inbound traffic goes the way the web process sends it: Telegram ``Update`` JSON through
``platforms.telegram.parse_update`` (Twilio forms through ``parse_twilio_inbound``), then
``store_inbound`` and ``process_inbound``. Assertions look at what the fakes received.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from bot.context import BotContext
from bot.intake import process_inbound, store_inbound
from core.db import Database
from core.settings import Settings
from platforms.base import Channel
from platforms.sms import SmsSender
from platforms.telegram import TelegramSender, parse_update
from platforms.twilio_inbound import parse_twilio_inbound
from tests.fakes.fake_telegram import (
    DEFAULT_TOKEN,
    FakeTelegram,
    TelegramCall,
    callback_update,
    contact_update,
    location_update,
    text_update,
)
from tests.fakes.fake_twilio import FakeTwilio, TwilioCall, inbound_form
from tests.fakes.fixtures import fake_telegram, fake_twilio  # noqa: F401

SMS_FROM = "+15005550006"
# A Monday morning in March, far from DST changes.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_chat_ids = itertools.count(555_000_001)


@dataclass
class Clock:
    """An injected clock tests move by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Bot:
    """Drives the bot like the webhook does and reads what the fakes received."""

    ctx: BotContext
    telegram: FakeTelegram
    twilio: FakeTwilio
    clock: Clock
    chats: dict[str, int] = field(default_factory=dict)
    # True: updates are processed without their event, so every press takes the general turn.
    general_turn: bool = False

    @staticmethod
    def new_chat() -> int:
        return next(_chat_ids)

    async def deliver(self, update: dict[str, Any]) -> UUID | None:
        """One Telegram update through parse -> store -> process; the stored id or None."""
        event = parse_update(update)
        assert event is not None
        inbound_id = await store_inbound(self.ctx.pool, event, update)
        if inbound_id is not None:
            # With the stored event, as the web process hands it on (a Taken or Skip press takes
            # the one-round-trip turn); ``general_turn`` drives the general turn instead.
            await process_inbound(self.ctx, inbound_id, None if self.general_turn else event)
        return inbound_id

    async def send(self, chat: int, text: str, **kwargs: Any) -> list[TelegramCall]:
        """A text from ``chat``; returns the calls the bot made in answer."""
        before = len(self.telegram.calls)
        await self.deliver(text_update(chat, text, **kwargs))
        return self.telegram.calls[before:]

    async def press(self, chat: int, label: str, **kwargs: Any) -> list[TelegramCall]:
        """Press the button labelled ``label`` on the latest message that has it."""
        data = self.button_data(chat, label)
        return await self.press_data(chat, data, **kwargs)

    async def press_data(self, chat: int, data: str, **kwargs: Any) -> list[TelegramCall]:
        before = len(self.telegram.calls)
        await self.deliver(callback_update(chat, data, **kwargs))
        return self.telegram.calls[before:]

    async def share_contact(self, chat: int, phone: str) -> list[TelegramCall]:
        before = len(self.telegram.calls)
        await self.deliver(contact_update(chat, phone))
        return self.telegram.calls[before:]

    async def share_location(self, chat: int, lat: float, lng: float) -> list[TelegramCall]:
        before = len(self.telegram.calls)
        await self.deliver(location_update(chat, lat, lng))
        return self.telegram.calls[before:]

    def messages_to(self, chat: int) -> list[TelegramCall]:
        return [c for c in self.telegram.sent_messages if str(c.chat_id) == str(chat)]

    def last_text(self, chat: int) -> str:
        return self.messages_to(chat)[-1].text or ""

    def button_data(self, chat: int, label: str) -> str:
        for call in reversed(self.messages_to(chat)):
            for row in call.buttons():
                for text, data in row:
                    if text == label:
                        return data
        raise AssertionError(f"no button {label!r} in messages to {chat}")

    def labels(self, chat: int) -> list[str]:
        """Button labels of the latest message to ``chat``."""
        return [text for row in self.messages_to(chat)[-1].buttons() for text, _ in row]

    # -- SMS ---------------------------------------------------------------------------------

    async def sms(self, number: str, body: str, *, media: str | None = None) -> list[TwilioCall]:
        """An inbound SMS through parse_twilio_inbound -> store -> process; ``media``: the
        content type of an attached file (an MMS)."""
        before = len(self.twilio.messages)
        form = inbound_form(number, body, to=SMS_FROM, media=media)
        event = parse_twilio_inbound(form)
        inbound_id = await store_inbound(self.ctx.pool, event, dict(form))
        if inbound_id is not None:
            await process_inbound(self.ctx, inbound_id, None if self.general_turn else event)
        return self.twilio.messages[before:]

    def sms_to(self, number: str) -> list[TwilioCall]:
        return [m for m in self.twilio.messages if m.to == number]


@pytest.fixture
async def bot(
    db: Database,
    settings: Settings,
    fake_telegram: FakeTelegram,  # noqa: F811
    fake_twilio: FakeTwilio,  # noqa: F811
) -> AsyncIterator[Bot]:
    """The bot over the fakes with a clock at :data:`START`."""
    telegram = TelegramSender(DEFAULT_TOKEN, base_url=fake_telegram.base_url)
    sms = SmsSender(
        fake_twilio.account_sid,
        fake_twilio.auth_token,
        from_number=SMS_FROM,
        api_base_url=fake_twilio.base_url,
    )
    clock = Clock()
    assert db.pool is not None
    ctx = BotContext(
        pool=db.pool,
        senders={Channel.TELEGRAM: telegram, Channel.SMS: sms},
        settings=settings,
        clock=clock,
    )
    try:
        yield Bot(ctx=ctx, telegram=fake_telegram, twilio=fake_twilio, clock=clock)
    finally:
        await telegram.aclose()
        await sms.aclose()
