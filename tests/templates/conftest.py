"""Fixtures for clinician-template tests: a dispatcher wired to prefetch templates per batch."""

from __future__ import annotations

import asyncpg

from tests.dispatch.conftest import clock, make_dispatcher  # noqa: F401 -- shared fixtures
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
