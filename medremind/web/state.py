"""What the request handlers share: settings, the database, channel senders, the clock.

One ``WebState`` per app, on ``app.state.web``; handlers reach it through :func:`web_state`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.requests import HTTPConnection

from core.db import Database
from core.settings import Settings
from medremind.web.chat_turns import ChatTurns
from platforms.base import Channel


def utc_now() -> datetime:
    """The default clock: aware UTC now."""
    return datetime.now(UTC)


@dataclass
class WebState:
    """Dependencies of the web app, given explicitly so tests build it on their own database."""

    settings: Settings
    database: Database
    senders: Any = None
    clock: Callable[[], datetime] = utc_now
    # The bot's @username, for invite links (https://t.me/<username>?start=<token>).
    bot_username: str | None = None
    # The other bots' usernames (bot id -> username), fetched once (medremind.web.invite_links).
    telegram_usernames: dict[str, str] = field(default_factory=dict)
    # When an update to an unknown bot last reloaded the clinics' bots (time.monotonic()).
    bots_reloaded_at: float = float("-inf")
    # The conversation engine's context (bot.context.BotContext); built on first use.
    _bot_context: Any = None
    # Hand inbound processing to detached tasks after the 200 (see medremind.web.inbound);
    # False processes inside the request's background task (tests use it for determinism).
    detach_processing: bool = True
    # Background tasks started by the app (start-up resume), cancelled at shutdown.
    tasks: set = field(default_factory=set)
    # Inbound updates being processed after their 200; given the grace period at shutdown.
    processing: set = field(default_factory=set)
    # Bounds concurrent processing (an asyncio.Semaphore, made in the running loop on first use).
    processing_slots: Any = None
    # Each chat's turns one at a time before they take a slot (medremind.web.chat_turns).
    chat_turns: ChatTurns = field(default_factory=ChatTurns)
    # MEDREMIND_CREDENTIALS_KEY's box (core.credentials.SecretBox), made on first use.
    _secret_box: Any = None
    # Clinics' own senders (scheduler.clinic_senders.ClinicSenders): replies to a patient who
    # wrote to a clinic's own number leave from it. None: every reply uses ``senders``.
    clinic_senders: Any = None
    # Why the start-up stopped (core.db_startup.StartupError: what to fix), for `medremind web`.
    startup_error: Exception | None = None
    # The replies' senders behind the fleet's circuit breakers (medremind.web.reply_breakers).
    reply_breakers: Any = None
    # Wrong credentials per client address, one limiter per door (medremind.web.failed_credentials).
    failure_limiters: dict = field(default_factory=dict)

    @property
    def secret_box(self) -> Any:
        """The :class:`~core.credentials.SecretBox` of the settings, or None without a key."""
        if self._secret_box is None and self.settings.credentials_key is not None:
            from core.credentials import SecretBox

            self._secret_box = SecretBox.from_settings(self.settings)
        return self._secret_box

    @property
    def bot_context(self) -> Any:
        """The conversation engine's context over this app's pool, senders and clock."""
        if self._bot_context is None and self.database.pool is not None:
            from bot.context import BotContext
            from core.sign_in_links import app_url
            from core.templating import TemplateRenderer
            from medremind.web.reply_breakers import ReplyBreakers

            guard = self.reply_breakers = ReplyBreakers(self.database.pool, self.settings)
            self._bot_context = BotContext(
                pool=self.database.pool,
                senders={ch: guard.wrap(ch, s) for ch, s in (self.senders or {}).items()},
                settings=self.settings,
                clock=self.clock,
                renderer=TemplateRenderer(
                    sms_max_segments=self.settings.sms_max_segments,
                    app_url=app_url(self.settings.app_base_url),
                ),
                sender_for_number=lambda ch, ours: guard.wrap(ch, self.sender_for_number(ch, ours)),
            )
        return self._bot_context

    def sender_for_number(self, channel: Channel, ours: str) -> Any:
        """The sender of the account a person wrote to, when it is not the channel's default:
        one of the service's other Telegram bots (by bot id), or a clinic's own number."""
        if channel is Channel.TELEGRAM:
            bots = getattr((self.senders or {}).get(channel), "by_id", None) or {}
            if ours in bots:
                return bots[ours]
        if self.clinic_senders is not None:  # a clinic's own number or bot
            return self.clinic_senders.for_number(channel, ours)
        return None

    @property
    def pool(self) -> asyncpg.Pool:
        """The started pool; a request before start-up is a programming error."""
        if self.database.pool is None:
            raise RuntimeError("the database is not started")
        return self.database.pool


def web_state(request: HTTPConnection) -> WebState:
    """The app's ``WebState`` from a request (or a WebSocket's handshake)."""
    return request.app.state.web
