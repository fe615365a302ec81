"""A caregiver on Telegram links their own chat by a link the patient forwards.

Before: /settings > Caregiver > Telegram asked 'Their Telegram chat id?' and took any number, so
one wrong digit sent missed-dose alerts naming the patient to a stranger's chat. Now no chat id is
asked: the patient gets ``https://t.me/<bot>?start=cg_<token>``, nothing is alerted until the
caregiver's own chat opens it, and that /start records the chat. Through the bot's real intake on
the loopback Telegram, the embedded PostgreSQL and the planner that writes the alerts.
"""

from __future__ import annotations

import logging
import re
from datetime import time

import asyncpg
import pytest

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.bot.test_caregiver_proof import _miss_the_next_dose
from tests.planner.conftest import messages


async def _pick_telegram(bot: Bot, chat: int, name: str = "Luis") -> None:
    """/settings > Caregiver > ``name`` > Telegram: the time zone is asked next."""
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    await bot.send(chat, name)
    await bot.press(chat, "Telegram")
    assert "time zone" in bot.last_text(chat)  # no chat id is asked


async def _telegram_caregiver(bot: Bot, chat: int) -> str:
    """Luis on Telegram, same zone, 30 minutes; the link's token."""
    await _pick_telegram(bot, chat)
    await bot.press(chat, "Same as mine")
    await bot.press(chat, "30")
    found = re.search(r"https://t\.me/medremind_test_bot\?start=(cg_[\w-]+)", bot.last_text(chat))
    assert found, bot.last_text(chat)
    return found.group(1)


async def test_the_caregivers_own_chat_links_itself_and_only_then_gets_alerts(
    bot: Bot,
    db: Database,
    settings: Settings,
    admin_conn: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    token = await _telegram_caregiver(bot, chat)
    assert "Forward this link to Luis" in bot.last_text(chat)
    # Pending: no caregiver row, so a missed dose alerts nobody.
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0
    stored = await admin_conn.fetchval("select token_hash from caregiver_links")
    assert token not in stored and len(stored) == 64
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0), time(20, 0)))
    await run_planner_tick(db.pool, bot.clock.now, settings)
    await _miss_the_next_dose(db, settings, admin_conn)
    assert await messages(admin_conn, patient["id"], "missed_dose_caregiver", None) == []

    # The patient opening their own link does not use it up.
    await bot.send(chat, f"/start {token}")
    assert "This link is for Luis" in bot.last_text(chat)

    # Luis opens it in his own Telegram: his chat is the caregiver, told whose and how to stop.
    luis = bot.new_chat()
    await bot.send(luis, f"/start {token}")
    told = bot.last_text(luis)
    assert "You are now Ana's caregiver" in told and "/stop" in told, told
    rows = await admin_conn.fetch("select channel, address, patient_id from caregivers")
    assert [tuple(r) for r in rows] == [("telegram", str(luis), patient["id"])]
    # Ana is told, through the outbound path.
    notice = await messages(admin_conn, patient["id"], "system")
    assert [n["message_content"] for n in notice] == [
        "Luis opened your link: their Telegram now gets your missed-dose alerts."
    ]

    await _miss_the_next_dose(db, settings, admin_conn)
    alerts = await messages(admin_conn, patient["id"], "missed_dose_caregiver")
    assert len(alerts) == 1 and alerts[0]["platform"] == "telegram"

    # Single use: another chat with the same link links nothing.
    stranger = bot.new_chat()
    await bot.send(stranger, f"/start {token}")
    assert "expired or was used already" in bot.last_text(stranger)
    assert await admin_conn.fetchval("select count(*) from caregivers") == 1

    # Luis stops as every caregiver does.
    await bot.send(luis, "/stop")
    assert await admin_conn.fetchval("select opted_out_at is not null from caregivers")
    assert token not in caplog.text


async def test_a_link_expires_after_seven_days_and_a_typed_chat_id_is_no_answer(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await _pick_telegram(bot, chat)
    await bot.send(chat, "123456789")  # a chat id typed anyway: not a time zone, not saved
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0

    token = await _telegram_caregiver(bot, chat)
    bot.clock.advance(days=7, seconds=1)
    luis = bot.new_chat()
    await bot.send(luis, f"/start {token}")
    assert "expired or was used already" in bot.last_text(luis)
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0


async def test_a_telegram_caregiver_dialog_begun_before_links_uses_no_typed_chat_id(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient who had picked Telegram and typed a chat id before this release, and answers
    the next question after it, gets a link; the typed number is never saved."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/settings")
    await bot.press(chat, "Caregiver")
    state = {"data": {"cg_name": "Luis", "cg_channel": "telegram", "cg_address": "123456789"}}
    await admin_conn.execute(
        "update conversations set step = 'set_caregiver_delay', state = state || $1::jsonb"
        " where chat_address = $2",
        state,
        str(chat),
    )
    await bot.send(chat, "30")
    assert "https://t.me/medremind_test_bot?start=cg_" in bot.last_text(chat)
    assert await admin_conn.fetchval("select count(*) from caregivers") == 0


async def test_a_link_not_opened_yet_is_withdrawn_when_the_patient_changes_their_mind(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Naming someone else, or removing the caregiver, withdraws the link: opened later, it
    would have made Luis the caregiver over the patient's newer choice."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    for change in ("someone else", "remove"):
        token = await _telegram_caregiver(bot, chat)
        await bot.send(chat, "/settings")
        await bot.press(chat, "Caregiver")
        if change == "remove":
            await bot.press(chat, "Remove caregiver")
        else:
            await bot.send(chat, "Eve")
            await bot.press(chat, "E-mail")
            await bot.send(chat, "eve@example.org")
            await bot.press(chat, "Same as mine")
            await bot.press(chat, "30")
        luis = bot.new_chat()
        await bot.send(luis, f"/start {token}")
        assert "expired or was used already" in bot.last_text(luis)
        telegram = "select count(*) from caregivers where channel = 'telegram'"
        assert await admin_conn.fetchval(telegram) == 0


async def test_a_caregiver_who_sent_stop_and_opens_a_new_link_is_alerted_again_for_that_patient(
    bot: Bot, db: Database, settings: Settings, admin_conn: asyncpg.Connection
) -> None:
    """Opening a link is consent again, for the patient whose link it is: Luis, caregiver of two
    patients, sent /stop (both stopped); the second names him again and he opens her new link:
    her alerts reach him, the first patient's stay stopped, and /stop works as before.

    Before: his chat was opted out, so the /start was answered 'Messages are stopped here' and the
    link left unused."""
    first_chat, second_chat, luis = bot.new_chat(), bot.new_chat(), bot.new_chat()
    first = await registered_patient(bot, admin_conn, first_chat)
    second = await registered_patient(bot, admin_conn, second_chat)
    for chat in (first_chat, second_chat):
        await bot.send(luis, f"/start {await _telegram_caregiver(bot, chat)}")
    await bot.send(luis, "/stop")
    assert "You will not get any more messages here" in bot.last_text(luis)

    token = await _telegram_caregiver(bot, second_chat)
    await bot.send(luis, f"/start {token}")
    assert "You are now Ana's caregiver" in bot.last_text(luis), bot.last_text(luis)
    rows = await admin_conn.fetch(
        "select patient_id, opted_out_at is null as alerted from caregivers where active"
    )
    assert {r["patient_id"]: r["alerted"] for r in rows} == {
        first["id"]: False,
        second["id"]: True,
    }
    await factories.create_medication(admin_conn, second["id"], times=(time(8, 0), time(20, 0)))
    await run_planner_tick(db.pool, bot.clock.now, settings)
    await _miss_the_next_dose(db, settings, admin_conn)
    assert len(await messages(admin_conn, second["id"], "missed_dose_caregiver")) == 1

    await bot.send(luis, "/stop")
    assert "You will not get any more messages here" in bot.last_text(luis)
    assert not await admin_conn.fetchval(
        "select bool_or(opted_out_at is null) from caregivers where active"
    )
