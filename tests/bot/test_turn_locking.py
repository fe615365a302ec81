"""The turn's first statement locks the update and the conversation and reads the patient; a
patient changed by a turn of the same chat that held the lock meanwhile is read again."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.intake import process_inbound, store_inbound
from core.answer_buttons import dose_data
from core.sql import query
from platforms.telegram import parse_update
from tests.bot.conftest import START, Bot
from tests.bot.helpers import dose_events, registered_patient, wait_until_a_lock_is_awaited
from tests.fakes.fake_telegram import callback_update


async def _store_press(bot: Bot, chat: int, data: str):
    update = callback_update(chat, data)
    event = parse_update(update)
    assert event is not None
    inbound_id = await store_inbound(bot.ctx.pool, event, update)
    assert inbound_id is not None
    return inbound_id


async def test_patient_read_with_the_lock_is_get_patients_record(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="Europe/Madrid")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START])
    inbound_id = await _store_press(bot, chat, dose_data(dose_id, "t"))
    async with bot.ctx.pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(query("bot", "lock_turn"), inbound_id)
        expected = await conn.fetchrow(query("bot", "get_patient"), patient["id"])
    assert row["patient_fresh"] is True
    assert dict(row["patient"]) == dict(expected)


@pytest.mark.parametrize("path", ["general turn", "one round trip"])
async def test_patient_changed_while_the_turn_waited_is_read_again(
    bot: Bot, admin_conn: asyncpg.Connection, path: str
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, timezone="UTC")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START])
    update = callback_update(chat, dose_data(dose_id, "t"))
    event = parse_update(update)
    assert event is not None
    inbound_id = await store_inbound(bot.ctx.pool, event, update)
    assert inbound_id is not None
    # With the event, a Taken press takes bot.button_turn's one-round-trip turn; without, the
    # general turn.
    handed_on = event if path == "one round trip" else None

    # Another turn of this chat holds the conversation, moves the patient to Tokyo and saves the
    # conversation (as every turn does) while this press waits for the lock.
    database_url = bot.ctx.settings.database_url
    assert database_url is not None
    other = await asyncpg.connect(database_url.get_secret_value())
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.execute(
            "select 1 from conversations where channel = 'telegram' and chat_address = $1"
            " for update",
            str(chat),
        )
        await other.execute(
            "update patients set timezone = 'Asia/Tokyo' where id = $1", patient["id"]
        )
        await other.execute(
            "update conversations set step = step where channel = 'telegram' and chat_address = $1",
            str(chat),
        )
        before = len(bot.telegram.calls)
        press = asyncio.create_task(process_inbound(bot.ctx, inbound_id, handed_on))
        await wait_until_a_lock_is_awaited(admin_conn)  # the press waits for the conversation
        await transaction.commit()
    finally:
        await other.close()
    await press

    # 09:00 UTC is 18:00 in Tokyo: the answer used the patient as committed, not as it was.
    texts = [call.text or "" for call in bot.telegram.calls[before:]]
    assert any("Taken at 6:00" in text or "Taken at 18:00" in text for text in texts), texts
