"""A patient of no clinic keeps at most MAX_OWN_MEDICINES medicines.

Anyone can register on the bot; every /add planned up to 12 reminders a day, with no limit on
medicines, so one chat could have the service plan and send reminders without end. Through
the bot's real intake on the loopback Telegram; the medicines already there are arranged in
the database (adding 30 by dialog would take 300 updates).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from bot.dialogs.medicines import MAX_OWN_MEDICINES
from tests import factories
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient
from tests.bot.test_telegram_flow import add_medicine, onboard


async def _medicines(conn: asyncpg.Connection, patient_id: UUID, count: int) -> None:
    for n in range(count):
        await factories.create_medication(conn, patient_id, name=f"Medicine {n}")


async def test_a_self_registered_patient_cannot_add_medicines_without_end(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await onboard(bot, chat)
    patient = await admin_conn.fetchval("select id from patients")
    await _medicines(admin_conn, patient, MAX_OWN_MEDICINES - 1)
    await add_medicine(bot, chat)  # the last one allowed
    await bot.send(chat, "/add Another")
    assert f"You have {MAX_OWN_MEDICINES} medicines" in bot.last_text(chat)
    count = await admin_conn.fetchval(
        "select count(*) from medications where patient_id = $1", patient
    )
    assert count == MAX_OWN_MEDICINES
    # Deleting one makes room again.
    await admin_conn.execute("update medications set status = 'deleted' where name = 'Medicine 0'")
    await bot.send(chat, "/add Another")
    assert "You have" not in bot.last_text(chat)


async def test_a_clinics_patient_is_not_limited_by_the_bot(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await _medicines(admin_conn, patient["id"], MAX_OWN_MEDICINES)
    await bot.send(chat, "/add Another")
    assert "You have" not in bot.last_text(chat)
