"""What the conversation engine needs from the outside world, bundled once per process."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from core.settings import Settings
from platforms.base import Channel, ChannelSender


def utc_now() -> datetime:
    """The default clock: aware UTC now."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BotContext:
    """The pool, one sender per channel, a clock and the settings.

    ``renderer`` is optional (a ``core.templating.TemplateRenderer``); the bot's own texts live in
    :mod:`bot.texts`. ``clock`` must return an aware UTC datetime; tests inject a fixed one.
    """

    pool: asyncpg.Pool
    senders: Mapping[Channel, ChannelSender]
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    renderer: Any = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    # (channel, our number a patient wrote to, or its messaging service SID) -> that clinic's own
    # sender, if it is one of a clinic's provider accounts (scheduler.clinic_senders); replies
    # leave from it.
    sender_for_number: Callable[[Channel, str], ChannelSender | None] | None = None

    def now(self) -> datetime:
        """The current time from the injected clock, checked to be aware."""
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("BotContext.clock must return an aware datetime")
        return value
