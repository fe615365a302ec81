"""Reminder buttons over the fake Telegram API: Taken, Snooze, Skip; duplicates; concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from core.answer_buttons import dose_data
from tests.bot.conftest import START, Bot
from tests.bot.helpers import dose_events, registered_patient, remind
from tests.fakes.fake_telegram import callback_update, text_update


async def test_taken_snooze_and_skip_are_recorded(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    due = START - timedelta(minutes=5)
    taken_id, snooze_id, skip_id = await dose_events(
        admin_conn, patient["id"], [due, due - timedelta(hours=1), due - timedelta(hours=2)],
        pill_count=10,
    )  # fmt: skip

    calls = await bot.press_data(chat, dose_data(taken_id, "t"), message_id=2001)
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1 and edits[0].params["message_id"] == 2001
    assert edits[0].text is not None and "Taken at" in edits[0].text
    assert any(c.method == "answerCallbackQuery" for c in calls)

    calls = await bot.press_data(chat, dose_data(snooze_id, "s30"), message_id=2002)
    edit = next(c for c in calls if c.method == "editMessageText")
    assert edit.text is not None and "remind you again" in edit.text
    # The snoozed reminder keeps Taken and the other lengths.
    assert [label for row in edit.buttons() for label, _ in row] == [
        "Taken",
        "Snooze 10 min",
        "Snooze 60 min",
    ]

    await bot.press_data(chat, dose_data(skip_id, "k"), message_id=2003)

    rows = {
        r["id"]: r
        for r in await admin_conn.fetch(
            "select id, status, answered_channel, snoozed_until from dose_events"
        )
    }
    assert rows[taken_id]["status"] == "taken"
    assert rows[taken_id]["answered_channel"] == "telegram"
    assert rows[snooze_id]["status"] == "snoozed"
    assert rows[snooze_id]["snoozed_until"] == START + timedelta(minutes=30)
    assert rows[skip_id]["status"] == "skipped"
    assert await admin_conn.fetchval("select pill_count from medications") == 9


async def test_same_update_twice_has_one_effect(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START], pill_count=5)
    update = callback_update(chat, dose_data(dose_id, "t"))
    first = await bot.deliver(update)
    before = len(bot.telegram.calls)
    second = await bot.deliver(update)
    assert first is not None and second is None
    assert len(bot.telegram.calls) == before  # nothing sent the second time
    assert await admin_conn.fetchval("select pill_count from medications") == 4
    assert await admin_conn.fetchval("select count(*) from inbound_messages") == 2  # /start too


async def test_two_updates_at_once_for_one_chat(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    """A double tap on Save creates one medicine, and the state stays consistent."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    await bot.send(chat, "/add Aspirin")
    await bot.press(chat, "Skip")
    await bot.send(chat, "9:00")
    await bot.press(chat, "Done")
    await bot.press(chat, "Every day")
    await bot.press(chat, "Today")
    await bot.press(chat, "No end date")
    await bot.press(chat, "Skip")
    save = bot.button_data(chat, "Save")
    await asyncio.gather(
        bot.deliver(callback_update(chat, save)), bot.deliver(callback_update(chat, save))
    )
    assert await admin_conn.fetchval("select count(*) from medications") == 1
    assert await admin_conn.fetchval("select count(*) from reminder_schedules") == 1
    conv = await admin_conn.fetchrow("select step, state from conversations")
    assert conv["step"] == "idle"
    # Sent messages always have text (the fake refuses an empty one), as in Bot.last_text.
    texts_sent = [c.text or "" for c in bot.messages_to(chat)[-2:]]
    assert any("Saved" in t for t in texts_sent)
    assert any("older message" in t for t in texts_sent)  # the second tap's button expired

    # Two different texts at once are applied one after the other.
    await asyncio.gather(
        bot.deliver(text_update(chat, "/add")), bot.deliver(text_update(chat, "Ibuprofen"))
    )
    step = await admin_conn.fetchval("select step from conversations")
    assert step in ("add_name", "add_dose", "idle")
    assert (
        await admin_conn.fetchval(
            "select count(*) from inbound_messages where status <> 'processed'"
        )
        == 0
    )


async def test_old_or_foreign_reminder_button(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat)
    other = await registered_patient(bot, admin_conn, bot.new_chat())
    (foreign,) = await dose_events(admin_conn, other["id"], [START])
    calls = await bot.press_data(chat, dose_data(foreign, "t"))
    assert calls[-1].text is not None
    assert "no longer active" in calls[-1].text or any(
        "no longer active" in (c.text or "") for c in calls
    )
    assert await admin_conn.fetchval("select status from dose_events") == "due"


async def test_late_answer_still_counts(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(
        admin_conn, patient["id"], [START - timedelta(hours=5)], statuses=["missed"]
    )
    calls = await bot.press_data(chat, dose_data(dose_id, "t"))
    assert any("Taken at" in (c.text or "") for c in calls)
    row = await admin_conn.fetchrow("select status, answered_at from dose_events")
    assert row["status"] == "taken" and row["answered_at"] == START
    # Pressing again after it was recorded says so instead of recording twice.
    calls = await bot.press_data(chat, dose_data(dose_id, "k"))
    assert any("already recorded as taken" in (c.text or "") for c in calls)
    assert await admin_conn.fetchval("select status from dose_events") == "taken"


async def test_reminder_that_cannot_be_edited_gets_a_new_message(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START])
    bot.telegram.fail_next(400, "Bad Request: message can't be edited", method="editMessageText")
    calls = await bot.press_data(chat, dose_data(dose_id, "t"))
    assert any(c.method == "sendMessage" and "Taken at" in (c.text or "") for c in calls)
    assert await admin_conn.fetchval("select status from dose_events") == "taken"


async def test_reply_retried_after_rate_limit_and_server_error(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    bot.telegram.fail_next_rate_limited(retry_after=1, method="sendMessage")
    calls = await bot.send(chat, "/help")
    assert [c.status for c in calls if c.method == "sendMessage"] == [429, 200]
    assert "/add" in bot.last_text(chat)  # sent after waiting
    bot.telegram.fail_next_server_error(method="sendMessage")
    await bot.send(chat, "/help")
    assert len(bot.messages_to(chat)) == 2


@pytest.mark.parametrize("said", ["Ya la tomé", "ya lo tomé.", "I took it"])
async def test_already_taken_said_in_a_sentence_is_taken(
    bot: Bot, admin_conn: asyncpg.Connection, said: str
) -> None:
    """ "Ya la tomé" (I already took it) to a reminder was "Perdona, no lo he entendido" and a
    list of the buttons (found by hand over WhatsApp in medremind dev); it is Taken, as
    "tomada" and "la tomé" were. Over loopback Twilio SMS."""
    patient = await registered_patient(bot, admin_conn, "+15005550199", channel="sms")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=3)])
    await remind(bot, admin_conn, patient["id"], dose_id=dose_id)
    reply = "\n".join(c.body or "" for c in await bot.sms("+15005550199", said))
    assert "Taken at" in reply or "Tomada a las" in reply, reply
    assert await admin_conn.fetchval("select status from dose_events") == "taken"


async def test_an_answer_typed_in_another_chat_of_the_patient(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient reminded by SMS (their first channel) writes "taken" in their Telegram chat.
    It was "Nothing is waiting for an answer right now" while /today showed the dose due (found
    as a patient switching channels). The answer's words reach the reminder asked on their other
    chat; the numbers it showed there are not this chat's ("1" here names the dose and its
    answers instead); the SMS "1" after it finds the dose answered."""
    chat, number = bot.new_chat(), "+15005550123"
    patient = await registered_patient(bot, admin_conn, chat)
    await admin_conn.execute(
        "insert into contact_points (patient_id, channel, address, verified)"
        " values ($1, 'sms', $2, true)",
        patient["id"],
        number,
    )
    await admin_conn.execute(
        "update patients set channel_order = '{sms,telegram}' where id = $1", patient["id"]
    )
    first, second = await dose_events(
        admin_conn, patient["id"], [START - timedelta(minutes=62), START - timedelta(minutes=2)]
    )
    await remind(bot, admin_conn, patient["id"], dose_id=first)
    await remind(bot, admin_conn, patient["id"], dose_id=second)
    assert (bot.sms_to(number)[-1].body or "").endswith("1 Taken\n2 Snooze 15 min\n3 Skip")

    # "1" was shown on the SMS, not here: no answer, but the dose and its buttons are named.
    calls = await bot.send(chat, "1")
    [reply] = [c for c in calls if c.method == "sendMessage"]
    assert "You can answer your 8:58 AM dose" in (reply.text or "")
    assert [label for row in reply.buttons() for label, _ in row] == [
        "Taken",
        "Snooze 15 min",
        "Skip",
    ]
    assert await admin_conn.fetchval("select count(*) from dose_events where status = 'due'") == 2

    # The newest reminder's dose gets the words, and the other one is named.
    await bot.send(chat, "taken")
    text = bot.last_text(chat)
    assert "Taken at" in text and "8:58 AM" in text, text
    assert "Also waiting for your answer: your 7:58 AM dose" in text, text
    statuses = dict(await admin_conn.fetch("select id, status from dose_events"))
    assert (statuses[first], statuses[second]) == ("due", "taken")
    # The one named is answered here too.
    await bot.send(chat, "skip")
    assert "Skipped" in bot.last_text(chat), bot.last_text(chat)
    assert await admin_conn.fetchval("select status from dose_events where id = $1", first) == (
        "skipped"
    )
    # Closed on the SMS chat as well: its "1" finds nothing open.
    replies = await bot.sms(number, "1")
    assert "Nothing is waiting" in (replies[-1].body or "")
