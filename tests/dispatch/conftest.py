"""Dispatcher test fixtures: a settable clock and a dispatcher factory over recording senders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel, ChannelSender
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests.dispatch.recording import RecordingSender

# Noon UTC on a weekday: outside everyone's default quiet hours in UTC.
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A settable clock for the dispatcher (aware UTC)."""

    now: datetime = NOON

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_dispatcher(
    db: Database, clock: Clock
) -> Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]:
    """``make_dispatcher(telegram=RecordingSender(...), sms=..., **config)``."""

    def factory(
        senders: dict[Channel, ChannelSender] | None = None, **config: Any
    ) -> tuple[Dispatcher, dict[Channel, RecordingSender]]:
        if senders is None:
            senders = {Channel.TELEGRAM: RecordingSender(Channel.TELEGRAM)}
        values: dict[str, Any] = {
            "worker_id": "test-worker",
            "platform_rates": {},
            "recipient_rates": {},
        } | config
        assert db.pool is not None
        dispatcher = Dispatcher(
            db.pool, senders, TemplateRenderer(), clock, DispatcherConfig(**values)
        )
        return dispatcher, senders  # type: ignore[return-value]

    return factory
