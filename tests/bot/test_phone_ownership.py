"""A phone number given in the bot never takes a contact point from the patient who has it.

Before, typing (or sharing) a number already registered to another patient, even one of another
clinic, moved that contact point to the new chat's patient: the owner's SMS reminders and answers
went to a stranger's record and the stranger's reminders to the owner's phone.
"""

from __future__ import annotations

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient

OWNER_NUMBER = "+14155552671"


async def _to_phone_step(bot: Bot, chat: int) -> None:
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Sam")
    await bot.press(chat, "English")
    await bot.send(chat, "Chicago")
    await bot.press(chat, "Yes")
    assert "phone" in bot.last_text(chat)


async def _sms_contact(conn: asyncpg.Connection, number: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        "select patient_id, verified, active from contact_points"
        " where channel = 'sms' and address = $1",
        number,
    )
    assert row is not None
    return row


async def test_typed_or_shared_number_of_another_patient_is_not_taken(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    owner = await registered_patient(bot, admin_conn, OWNER_NUMBER, channel="sms")
    before = await _sms_contact(admin_conn, OWNER_NUMBER)
    chat = bot.new_chat()
    await _to_phone_step(bot, chat)

    await bot.send(chat, "+1 415 555 2671")  # typed
    assert "already registered for someone else" in bot.last_text(chat)
    assert "phone" in bot.last_text(chat) or "Skip" in [
        label for row in bot.messages_to(chat)[-1].buttons() for label, _ in row
    ]
    await bot.share_contact(chat, OWNER_NUMBER)  # even shared as the chat's own number
    assert "already registered for someone else" in bot.last_text(chat)

    after = await _sms_contact(admin_conn, OWNER_NUMBER)
    assert after["patient_id"] == owner["id"]
    assert (after["verified"], after["active"]) == (before["verified"], before["active"])
    # The owner still gets their reminders' answers: their SMS reaches their own record.
    await bot.sms(OWNER_NUMBER, "/start")
    assert any("Welcome back" in (m.body or "") for m in bot.sms_to(OWNER_NUMBER))

    # The newcomer can go on: skip, or give a number of their own.
    await bot.send(chat, "+1 415 555 0199")
    mine = await _sms_contact(admin_conn, "+14155550199")
    assert mine["patient_id"] != owner["id"]
    assert (
        await admin_conn.fetchval(
            "select count(*) from contact_points where channel = 'sms' and patient_id = $1",
            mine["patient_id"],
        )
        == 1
    )


async def test_own_number_given_again_is_kept_and_verified_by_a_share(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    await _to_phone_step(bot, chat)
    await bot.send(chat, "+1 415 555 0142")
    first = await _sms_contact(admin_conn, "+14155550142")
    assert first["verified"] is False
    # Later, from /settings or onboarding again, the same number shared from Telegram: proven.
    await admin_conn.execute(
        "update conversations set step = 'phone' where chat_address = $1", str(chat)
    )
    await bot.share_contact(chat, "+14155550142")
    again = await _sms_contact(admin_conn, "+14155550142")
    assert again["patient_id"] == first["patient_id"]
    assert again["verified"] is True
