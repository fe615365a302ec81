"""Attack run on the several-bots surface (issue 20's bots, issue 15's kind of run): a clinic
saving one of the service's own bots as its own, posts to made-up bot ids, and a clinic's own bot
answering a person of another clinic."""

from __future__ import annotations

import asyncio
from datetime import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings, load_settings
from medremind.api_keys import create_api_key
from platforms.telegram_bots import webhook_secret
from tests.factories import create_medication, create_organization, create_patient
from tests.fakes.fake_telegram import DEFAULT_TOKEN, FakeTelegram, callback_update, text_update
from tests.process_env import QUIET_HOURS_OFF
from tests.web.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET, web_env
from tests.web.processes import clinic_key, output, start_web, stop, wait_until_up
from tests.web.test_telegram_bots import (  # noqa: F401 (fixtures)
    BOT_B,
    BOT_B_TOKEN,
    CLINIC_BOT,
    CLINIC_TOKEN,
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


async def save_clinic_bot(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, db: Database
) -> None:
    """A new clinic that saves CLINIC_TOKEN as its own bot through the API."""
    clinic = await create_organization(admin_conn)
    assert db.pool is not None
    auth = {"Authorization": f"Bearer {await create_api_key(db.pool, str(clinic['id']), 't')}"}
    saved = await web.put(
        "/api/v1/provider-accounts/telegram", json={"token": CLINIC_TOKEN}, headers=auth
    )
    assert saved.status_code == 200, saved.text


async def test_a_clinics_own_bot_never_answers_with_another_clinics_patient(
    bots_web: httpx.AsyncClient,  # noqa: F811
    two_bots: FakeTelegram,  # noqa: F811
    admin_conn: asyncpg.Connection,
    db: Database,
) -> None:
    """A Telegram chat id is the person's user id, the same with every bot, and the service keys
    a chat's conversation and contact point by it. Clinic A holds its bot's token, so it can
    read what the bot sends (forwardMessage of its own messages): a patient of clinic B who
    writes to A's bot must not be answered there with B's records."""
    await save_clinic_bot(bots_web, admin_conn, db)
    clinic_b = await create_organization(
        admin_conn, default_quiet_start=time(0), default_quiet_end=time(0)
    )
    # Clinic B's patient, and a person of no clinic, both on the service's default bot.
    chats = (555200070, 555200071)
    for chat, organization in zip(chats, (clinic_b["id"], None), strict=True):
        patient = await create_patient(
            admin_conn, organization, contacts={"telegram": str(chat)}, display_name="Quintessa"
        )
        await create_medication(admin_conn, patient["id"], name="Zyloprim")

    headers = {SECRET_HEADER: webhook_secret(WEBHOOK_SECRET, CLINIC_BOT)}
    for chat in chats:
        for text in ("/start", "/meds", "/today", "/settings", "hello"):
            answer = await bots_web.post(
                f"/telegram/webhook/{CLINIC_BOT}", json=text_update(chat, text), headers=headers
            )
            assert answer.status_code == 200
    through_a = [
        c for c in two_bots.calls if c.token == CLINIC_TOKEN and c.params.get("chat_id") in chats
    ]
    # Told, through the bot they wrote to, where to write instead; nothing of their record.
    told = "cannot show or change your reminders"
    assert through_a and all(told in str(c.params) for c in through_a)
    leaked = [c.params for c in through_a if "Zyloprim" in str(c.params)]
    leaked += [c.params for c in through_a if "Quintessa" in str(c.params)]
    assert leaked == []


async def test_a_person_who_registers_on_a_clinics_bot_carries_on_there(
    bots_web: httpx.AsyncClient,  # noqa: F811
    two_bots: FakeTelegram,  # noqa: F811
    admin_conn: asyncpg.Connection,
    db: Database,
) -> None:
    """Without an invite, a stranger who starts a clinic's bot registers there (a patient of no
    clinic yet, on that bot): the rule above does not stop them half-way."""
    await save_clinic_bot(bots_web, admin_conn, db)
    chat = 555200075
    url = f"/telegram/webhook/{CLINIC_BOT}"
    headers = {SECRET_HEADER: webhook_secret(WEBHOOK_SECRET, CLINIC_BOT)}
    assert (await bots_web.post(url, json=text_update(chat, "/start"), headers=headers)).is_success
    agree = next(
        data
        for row in two_bots.sent_messages[-1].buttons()
        for label, data in row
        if label == "I agree"
    )
    press = callback_update(chat, agree)
    assert (await bots_web.post(url, json=press, headers=headers)).is_success
    assert (await bots_web.post(url, json=text_update(chat, "Nia"), headers=headers)).is_success
    assert two_bots.sent_messages[-1].text == "Which language do you prefer?"
    assert two_bots.sent_messages[-1].token == CLINIC_TOKEN


async def test_a_refusal_by_another_bot_leaves_the_chats_contact_point_usable(
    bots_web: httpx.AsyncClient,  # noqa: F811
    two_bots: FakeTelegram,  # noqa: F811
    admin_conn: asyncpg.Connection,
    db: Database,
) -> None:
    """A patient on the default bot who blocked a clinic's bot and writes to it: its reply is
    refused (403), which says nothing of the default bot, whose reminders must go on."""
    await save_clinic_bot(bots_web, admin_conn, db)
    chat = 555200077
    patient = await create_patient(admin_conn, None, contacts={"telegram": str(chat)})
    two_bots.block_chat(chat)
    headers = {SECRET_HEADER: webhook_secret(WEBHOOK_SECRET, CLINIC_BOT)}
    answer = await bots_web.post(
        f"/telegram/webhook/{CLINIC_BOT}", json=text_update(chat, "/help"), headers=headers
    )
    assert answer.status_code == 200
    refused = [c for c in two_bots.calls if c.token == CLINIC_TOKEN and c.status == 403]
    assert refused, "the reply through the clinic's bot was refused"
    contact = await admin_conn.fetchrow(
        "select active, blocked_at from contact_points where patient_id = $1", patient["id"]
    )
    assert contact["active"] and contact["blocked_at"] is None


async def test_no_bot_token_or_webhook_secret_reaches_the_web_process_log_or_the_api(
    database_url: str,
    tmp_path: Path,
    two_bots: FakeTelegram,  # noqa: F811
    admin_conn: asyncpg.Connection,
    db: Database,
) -> None:
    """A real ``medremind web`` at DEBUG: a clinic's bot saved (and a refused token), updates
    to every bot with right and wrong secrets, made-up ids; no token and no webhook secret (the
    master or a derived one) in its output or in what the API shows of the account."""
    process, base = start_web(
        database_url,
        tmp_path,
        two_bots,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        MEDREMIND_TELEGRAM_BOTS=BOT_B_TOKEN,
        MEDREMIND_LOG_LEVEL="DEBUG",
        **QUIET_HOURS_OFF,
    )
    shown: list[str] = []
    try:
        await wait_until_up(base, process)
        _, key = await clinic_key(db, admin_conn, "Log Clinic")
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base, timeout=30) as web:
            for token in (f"{CLINIC_BOT}:Refused-SecretPart!", CLINIC_TOKEN):
                put = await web.put(
                    "/api/v1/provider-accounts/telegram", json={"token": token}, headers=auth
                )
                shown.append(put.text)
            assert put.status_code == 200, put.text
            shown.append((await web.get("/api/v1/provider-accounts", headers=auth)).text)
            for bot in (CLINIC_BOT, BOT_B, "31337"):
                for secret in (webhook_secret(WEBHOOK_SECRET, bot), WEBHOOK_SECRET, "guess"):
                    for text in ("/start", "/help"):
                        answer = await web.post(
                            f"/telegram/webhook/{bot}",
                            json=text_update(555200080, text),
                            headers={SECRET_HEADER: secret},
                        )
                        shown.append(answer.text)
                        assert answer.status_code < 500
    finally:
        await stop(process, 30)
    log = output(process)
    assert "telegram" in log.lower()  # the log is the web process's, at DEBUG
    tokens = (CLINIC_TOKEN, BOT_B_TOKEN, DEFAULT_TOKEN, "1:Refused-SecretPart!")
    secrets = [token.split(":", 1)[1] for token in tokens]
    secrets += [WEBHOOK_SECRET] + [webhook_secret(WEBHOOK_SECRET, b) for b in (CLINIC_BOT, BOT_B)]
    for secret in secrets:
        assert secret not in log
        assert not any(secret in text for text in shown)


async def test_a_block_is_lifted_only_by_a_message_to_its_bot(
    bots_web: httpx.AsyncClient,  # noqa: F811
    admin_conn: asyncpg.Connection,
) -> None:
    """The person blocked the default bot (recorded on their contact point) and writes to bot
    B: that says nothing of the default bot, whose reminders would be refused again; a
    message to the default bot itself lifts the block."""
    chat = 555200078
    patient = await create_patient(admin_conn, None, contacts={"telegram": str(chat)})
    await admin_conn.execute(
        "update contact_points set active = false, blocked_at = now() where patient_id = $1",
        patient["id"],
    )
    blocked = "select blocked_at is not null from contact_points where patient_id = $1"
    to_b = await bots_web.post(
        f"/telegram/webhook/{BOT_B}",
        json=text_update(chat, "/help"),
        headers={SECRET_HEADER: webhook_secret(WEBHOOK_SECRET, BOT_B)},
    )
    assert to_b.status_code == 200
    assert await admin_conn.fetchval(blocked, patient["id"]) is True
    to_default = await bots_web.post(
        "/telegram/webhook",
        json=text_update(chat, "/help"),
        headers={SECRET_HEADER: WEBHOOK_SECRET},
    )
    assert to_default.status_code == 200
    assert await admin_conn.fetchval(blocked, patient["id"]) is False
