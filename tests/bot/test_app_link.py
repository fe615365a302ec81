"""`/app` and `/app_signout` in a chat: a Telegram-only patient gets a one-time sign-in link to the
patient app where they talk to the bot, and can end every app session from the chat."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from core.link_messages import SIGN_IN_MARKER, SIGN_IN_USED, scrub_spent_link
from core.settings import Settings, load_settings
from core.sign_in_links import token_hash
from core.sql import query
from tests.bot.conftest import START, Bot
from tests.bot.helpers import registered_patient
from tests.factories import create_clinician
from tests.integration.clinician import as_clinician

BASE = "https://medremind.example.org"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test's settings with the public address links are built on."""
    return load_settings(
        {
            "DATABASE_URL": database_url,
            "MEDREMIND_DATA_DIR": str(tmp_path / "data"),
            "MEDREMIND_OUTBOX_DIR": str(tmp_path / "outbox"),
            "MEDREMIND_OUTBOX_ENABLED": "true",
            "PUBLIC_BASE_URL": BASE,
        }
    )


async def test_app_link_in_the_chat_works_once_and_signout_ends_sessions(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/app")
    text = bot.last_text(chat)
    match = re.search(rf"{BASE}/app/#sign-in=([\w-]+)", text)
    assert match is not None, text
    link = await admin_conn.fetchrow(
        "select patient_id, channel, expires_at, used_at from patient_sign_in_links"
        " where token_hash = $1",
        token_hash(match[1]),
    )
    assert link["patient_id"] == patient["id"] and link["channel"] == "telegram"
    assert link["expires_at"] == START + timedelta(minutes=15) and link["used_at"] is None
    redeemed = await admin_conn.fetchval(
        query("patient_app", "redeem_sign_in_link"), token_hash(match[1]), START
    )
    assert redeemed is not None
    # Three links per quarter hour at most.
    for _ in range(3):
        await bot.send(chat, "/app")
    assert "several sign-in links" in bot.last_text(chat)

    for _ in range(2):
        await admin_conn.execute(
            "insert into patient_web_sessions (patient_id, token_hash, created_at, expires_at)"
            " values ($1, md5(random()::text) || md5(random()::text), $2, $3)",
            patient["id"],
            START,
            START + timedelta(hours=12),
        )
    await bot.send(chat, "/app_signout")
    assert "every device (2)" in bot.last_text(chat)
    assert not await admin_conn.fetchval(
        "select count(*) from patient_web_sessions where revoked_at is null"
    )


async def test_the_link_in_the_chat_is_not_the_clinics_to_read_until_spent(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The bot's answer to /app is a message row of the patient's clinic: while its link works,
    the clinic's clinicians do not see it (migration 20260101015400); the web's redemption
    scrubs it (the same query as for a link asked for on the sign-in page)."""
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    clinician = await create_clinician(admin_conn, patient["organization_id"])
    await bot.send(chat, "/app")
    token = re.search(r"/app/#sign-in=([\w-]+)", bot.last_text(chat))[1]  # type: ignore[index]

    async def clinicians_texts() -> list[str]:
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            rows = await conn.fetch("select message_content from scheduled_messages")
        return [row["message_content"] or "" for row in rows]

    assert rows_with(token, await clinicians_texts()) == []
    everything = await admin_conn.fetch("select message_content from scheduled_messages")
    assert len(rows_with(token, [r["message_content"] or "" for r in everything])) == 1
    await scrub_spent_link(admin_conn, patient["id"], SIGN_IN_MARKER, token, SIGN_IN_USED)
    assert "MedRemind sign-in link (used)" in await clinicians_texts()


def rows_with(token: str, texts: list[str]) -> list[str]:
    """The texts holding ``token``."""
    return [text for text in texts if token in text]
