"""Fixtures for clinician-template tests: a dispatcher wired to prefetch templates per batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel, ChannelSender
from scheduler.claims import Claim
from scheduler.custom_templates import prefetch_templates
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests.dispatch.conftest import Clock, clock  # noqa: F401 -- the settable clock fixture
from tests.dispatch.recording import RecordingSender


class WiredDispatcher(Dispatcher):
    """The real dispatcher plus the one line that wires clinician templates in (see the report).

    Until ``scheduler/dispatcher.py`` calls :func:`prefetch_templates` after each claim itself,
    the tests apply that line here.
    """

    async def _claim(self, limit: int) -> list[Claim]:
        claims = await super()._claim(limit)
        await prefetch_templates(self.pool, self.renderer, claims)
        return claims


@pytest.fixture
def make_dispatcher(
    db: Database,
    clock: Clock,  # noqa: F811
) -> Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]:
    """``make_dispatcher({Channel.SMS: RecordingSender(Channel.SMS)})``."""

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
        dispatcher = WiredDispatcher(
            db.pool, senders, TemplateRenderer(), clock, DispatcherConfig(**values)
        )
        return dispatcher, senders  # type: ignore[return-value]

    return factory


async def add_template(
    conn: asyncpg.Connection,
    organization_id: object,
    name: str,
    body: str,
    *,
    kind: str = "free_text",
    locale: str = "en",
    channel: str = "default",
    subject: str | None = None,
) -> asyncpg.Record:
    """A ``message_templates`` row, written directly (as the dashboard does)."""
    return await conn.fetchrow(
        "insert into message_templates (organization_id, name, kind, locale, channel, body,"
        " subject) values ($1, $2, $3, $4, $5, $6, $7) returning *",
        organization_id,
        name,
        kind,
        locale,
        channel,
        body,
        subject,
    )
