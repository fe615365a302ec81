"""Fixtures for clinician-template tests: a dispatcher wired to prefetch templates per batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from core.db import Database
from core.templating import TemplateRenderer
from platforms.base import Channel, ChannelSender
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests.dispatch.conftest import Clock, clock  # noqa: F401 -- the settable clock fixture
from tests.dispatch.recording import RecordingSender
from tests.fakes.fixtures import fake_telegram, fake_twilio  # noqa: F401 -- fixtures
from tests.web.conftest import (  # noqa: F401 -- the web app, its client and API keys
    api_key,
    auth,
    client,
    org,
    other_auth,
    other_key,
    other_org,
    patient,
    senders,
    web_settings,
)


@pytest.fixture
def make_dispatcher(
    db: Database,
    clock: Clock,  # noqa: F811
) -> Callable[..., tuple[Dispatcher, dict[Channel, RecordingSender]]]:
    """``make_dispatcher({Channel.SMS: RecordingSender(Channel.SMS)})``."""

    def factory(
        channel_senders: dict[Channel, ChannelSender] | None = None, **config: Any
    ) -> tuple[Dispatcher, dict[Channel, RecordingSender]]:
        if channel_senders is None:
            channel_senders = {Channel.TELEGRAM: RecordingSender(Channel.TELEGRAM)}
        values: dict[str, Any] = {
            "worker_id": "test-worker",
            "platform_rates": {},
            "recipient_rates": {},
        } | config
        assert db.pool is not None
        dispatcher = Dispatcher(
            db.pool, channel_senders, TemplateRenderer(), clock, DispatcherConfig(**values)
        )
        return dispatcher, channel_senders  # type: ignore[return-value]

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
