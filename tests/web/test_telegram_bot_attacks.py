"""Attack run on the several-bots surface (issue 20's bots, issue 15's kind of run): a clinic
saving one of the service's own bots as its own, and posts to made-up bot ids."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings, load_settings
from medremind.api_keys import create_api_key
from tests.factories import create_organization
from tests.fakes.fake_telegram import FakeTelegram, text_update
from tests.web.conftest import web_env
from tests.web.test_telegram_bots import (  # noqa: F401 (fixtures)
    BOT_B_TOKEN,
    SECRET_HEADER,
    bots_env,
    bots_web,
    two_bots,
)

# The service's default bot with a token of BotFather's shape (the fake's default is shorter,
# which the account form would refuse before anything else).
SERVICE_TOKEN = "900100:SERVICE-default-token-abcdefghijk"


@pytest.fixture
def bots_settings(database_url: str, tmp_path: Path, two_bots: FakeTelegram) -> Settings:  # noqa: F811
    two_bots.usernames[SERVICE_TOKEN] = "medremind_service_bot"
    env = bots_env(two_bots) | {"TELEGRAM_BOT_TOKEN": SERVICE_TOKEN}
    return load_settings(web_env(database_url, tmp_path, **env))


@pytest.mark.parametrize("token", [SERVICE_TOKEN, BOT_B_TOKEN], ids=["default", "extra"])
async def test_a_clinic_cannot_save_one_of_the_services_bots_as_its_own(
    bots_web: httpx.AsyncClient,  # noqa: F811
    two_bots: FakeTelegram,  # noqa: F811
    admin_conn: asyncpg.Connection,
    db: Database,
    token: str,
) -> None:
    org = await create_organization(admin_conn)
    assert db.pool is not None
    auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(org['id']), 'tests')}"}
    hooks_before = len(two_bots.calls_to("setWebhook"))
    saved = await bots_web.put(
        "/api/v1/provider-accounts/telegram", json={"token": token}, headers=auth
    )
    assert saved.status_code == 422, saved.text
    assert "token" in saved.text and "service's own bots" in saved.text
    assert token not in saved.text
    # The service's bot keeps its webhook (the default's: /telegram/webhook under the master
    # secret; a clinic's path would have every update of it refused) and belongs to no clinic.
    assert len(two_bots.calls_to("setWebhook")) == hooks_before
    assert await admin_conn.fetchval("select count(*) from clinic_provider_accounts") == 0


async def test_a_made_up_bot_id_without_its_secret_costs_no_query(
    bots_web: httpx.AsyncClient,  # noqa: F811
    admin_conn: asyncpg.Connection,
) -> None:
    """Anyone can post to /telegram/webhook/<any number>: without the secret derived for that
    number it is a 404 that does not ask the database (here, held by a lock it would wait on)."""
    update = text_update(555200090, "/help")
    async with admin_conn.transaction():
        await admin_conn.execute("lock table clinic_provider_accounts in access exclusive mode")
        for bot in ("424242", "1" * 20):
            answer = await asyncio.wait_for(
                bots_web.post(
                    f"/telegram/webhook/{bot}", json=update, headers={SECRET_HEADER: "guess"}
                ),
                timeout=20,
            )
            assert answer.status_code == 404
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 0
