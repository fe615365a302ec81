"""Fixtures for the web tests: the app on the test database with the loopback fakes, a client
that talks to it the way a TLS-terminating proxy does (plain http, internal host), and API keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from core.credentials import new_key
from core.db import Database
from core.inbound_window import LastInboundLookup
from core.settings import Settings, load_settings
from medremind.api_keys import create_api_key
from medremind.web import create_app
from platforms.registry import build_senders
from platforms.whatsapp_content_store import PostgresContentStore
from tests.factories import create_organization, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.fakes.fixtures import fake_telegram, fake_twilio  # noqa: F401

PUBLIC_BASE_URL = "https://medremind.example.org"
# What the app sees behind the proxy: http and an internal host name.
INTERNAL_BASE_URL = "http://web.internal:8000"
WEBHOOK_SECRET = "s3cret-webhook-token_0123456789"
# The chat tests' start (tests.web.chat): a weekday at 11:50 UTC; their patients live in UTC, so
# noon is outside every quiet window.
START = datetime(2026, 3, 4, 11, 50, tzinfo=UTC)


@dataclass
class Clock:
    """One clock for the web app and the worker's dispatcher."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


# One key for the session's processes (a worker opens what a web process sealed).
CREDENTIALS_KEY = new_key()


def web_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a web process on the test database."""
    return {
        "DATABASE_URL": database_url,
        "MEDREMIND_DATA_DIR": str(tmp_path / "data"),
        "MEDREMIND_OUTBOX_DIR": str(tmp_path / "outbox"),
        # E-mail (and any channel without credentials) goes to the outbox folder in these tests.
        "MEDREMIND_OUTBOX_ENABLED": "true",
        "MEDREMIND_DB_POOL_MIN": "1",
        "MEDREMIND_DB_POOL_MAX": "8",
        # Tests fire requests far faster than a clinic's system; the limit's own tests set it.
        "MEDREMIND_API_RATE_LIMIT": "0",
        # Secrets at rest (webhook signing secrets, clinics' accounts) need a key, as in production.
        "MEDREMIND_CREDENTIALS_KEY": CREDENTIALS_KEY,
        **extra,
    }


@pytest.fixture
def web_settings(
    database_url: str,
    tmp_path: Path,
    fake_telegram: FakeTelegram,  # noqa: F811
    fake_twilio: FakeTwilio,  # noqa: F811
) -> Settings:
    """Settings with every webhook secret configured and the vendors on the loopback fakes."""
    return load_settings(
        web_env(
            database_url,
            tmp_path,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL,
            TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_BASE_URL=fake_telegram.base_url,
            TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
            TWILIO_SMS_FROM="+15005550006",
            TWILIO_WHATSAPP_FROM="whatsapp:+15005550006",
            TWILIO_API_BASE_URL=fake_twilio.base_url,
        )
    )


@pytest.fixture
async def senders(web_settings: Settings) -> AsyncIterator[dict]:
    """The real channel adapters, pointed at the fakes."""
    built = build_senders(web_settings)
    try:
        yield built
    finally:
        for sender in built.values():
            await sender.aclose()


@pytest.fixture
async def wa_senders(
    web_settings: Settings, db: Database, chat_clock: Clock
) -> AsyncIterator[dict]:
    """The processes' senders (medremind/worker_process.py): WhatsApp's 24-hour window read
    from ``inbound_messages`` and measured on ``chat_clock`` (the web app stores the inbound
    times by it), its quick-reply Content SIDs kept in Postgres, so a patient who wrote gets
    buttons, until 24 hours after they last wrote."""
    built = build_senders(
        web_settings,
        last_inbound_lookup=LastInboundLookup(db),
        content_store=PostgresContentStore(db),
        clock=chat_clock,
    )
    try:
        yield built
    finally:
        for sender in built.values():
            await sender.aclose()


def make_app(settings: Settings, database: Database, senders: Any = None) -> Starlette:
    """The app as the tests use it: explicit database and senders, known bot username."""
    return create_app(
        settings,
        database=database,
        senders=senders or {},
        bot_username="medremind_test_bot",
        detach_processing=False,
    )


def make_client(app: Starlette) -> httpx.AsyncClient:
    """A client reaching the app over plain http on an internal host, like a proxy does."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=INTERNAL_BASE_URL)


@pytest.fixture
async def client(
    web_settings: Settings, db: Database, senders: dict
) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the fully configured app."""
    async with make_client(make_app(web_settings, db, senders)) as http:
        yield http


def twilio_signature(path: str, form: dict[str, str], *, base: str = PUBLIC_BASE_URL) -> str:
    """The X-Twilio-Signature Twilio computes for ``form`` posted to ``base + path``."""
    return RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(base + path, form)


@pytest.fixture
async def org(admin_conn: asyncpg.Connection) -> asyncpg.Record:
    """An organization."""
    return await create_organization(admin_conn, name="North Clinic", timezone="Europe/Berlin")


@pytest.fixture
async def other_org(admin_conn: asyncpg.Connection) -> asyncpg.Record:
    """A second organization whose data the first must never see."""
    return await create_organization(admin_conn, name="South Clinic")


@pytest.fixture
async def api_key(db: Database, org: asyncpg.Record) -> str:
    """A key of ``org``."""
    assert db.pool is not None
    return await create_api_key(db.pool, str(org["id"]), "tests")


@pytest.fixture
async def other_key(db: Database, other_org: asyncpg.Record) -> str:
    """A key of ``other_org``."""
    assert db.pool is not None
    return await create_api_key(db.pool, other_org["name"], "tests")


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    """Authorization header for ``org``."""
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def other_auth(other_key: str) -> dict[str, str]:
    """Authorization header for ``other_org``."""
    return {"Authorization": f"Bearer {other_key}"}


@pytest.fixture
async def patient(admin_conn: asyncpg.Connection, org: asyncpg.Record) -> asyncpg.Record:
    """A patient of ``org`` on Telegram."""
    return await create_patient(admin_conn, org["id"], timezone="Europe/Berlin")


async def count(conn: asyncpg.Connection, table: str) -> int:
    """Rows in ``table``."""
    return await conn.fetchval(f"select count(*) from {table}")


@pytest.fixture
def chat_clock() -> Clock:
    """The clock of ``web`` (tests.web.chat)."""
    return Clock()


@pytest.fixture
async def web(
    web_settings: Settings, db: Database, senders: dict, chat_clock: Clock
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the web app on the test database, the fakes and ``chat_clock``."""
    app = create_app(
        web_settings,
        database=db,
        senders=senders,
        clock=chat_clock,
        bot_username="medremind_test_bot",
        detach_processing=False,
    )
    async with make_client(app) as http:
        yield http


# Real web processes (tests/web/processes.py imports the helpers above, so it comes last).
from tests.web.processes import web_process  # noqa: E402, F401
from tests.web.worker_day import clinic, day, madrid  # noqa: E402, F401
