"""A number typed where a dialog step reads numbers is that number, never a menu's choice.

On numbered channels (SMS, WhatsApp, console, e-mail) a menu's options are "1 ...", "2 ...". A
step that numbers options AND reads typed numbers or times is ambiguous: "2" for the appointment
reminder offsets was "A day before" (the second preset), not 2 hours; "2" for a reminder time was
"Noon 12:00", "5" ended the list ("Done"); "2" minutes for a caregiver's alert was 60. Those steps
number nothing there and name the words to type. Driven over the loopback Twilio SMS fake.
"""

from __future__ import annotations

import uuid
from datetime import time, timedelta

import asyncpg
import pytest

from bot import routing, texts
from bot.conversation import NUMBERED_CHANNELS, Conversation, Turn
from bot.dialogs.medicines import _typed_skip
from bot.steps import STEPS
from core.templating import TemplateRenderer
from platforms.base import Channel, InboundEvent, InboundKind
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from tests.bot.conftest import Bot
from tests.bot.helpers import registered_patient, whatsapp_chat

NUMBER = "+15005550177"


def body(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


def numbered_lines(text: str) -> list[str]:
    """The lines of ``text`` that are a numbered option ("1 Morning 08:00")."""
    return [line for line in text.splitlines() if line[:2].strip().isdigit() and " " in line]


async def test_a_number_typed_for_a_reminder_time_is_the_hour(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "2" is 02:00 and "5" is 05:00 (they were "2 Noon 12:00" and "5 Done"); the words still
    pick the usual times and DONE ends the list."""
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    await bot.sms(NUMBER, "/add")
    await bot.sms(NUMBER, "Iron")
    asked = body(await bot.sms(NUMBER, "1 tablet"))
    assert "8 is 8:00" in asked and "reply DONE" in asked and not numbered_lines(asked), asked
    so_far = body(await bot.sms(NUMBER, "2"))
    assert "Times so far: 2:00" in so_far and not numbered_lines(so_far), so_far
    await bot.sms(NUMBER, "5")
    await bot.sms(NUMBER, "bedtime")
    assert "On which days" in body(await bot.sms(NUMBER, "Done."))
    for text in ("Every day", "Today", "No end date", "skip"):
        await bot.sms(NUMBER, text)
    assert "Saved" in body(await bot.sms(NUMBER, "Save"))
    times = await admin_conn.fetchval("select times_of_day from reminder_schedules")
    assert times == [time(2), time(5), time(22)]


async def test_a_number_typed_for_appointment_reminders_is_hours(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "2" is two hours before (it was the second preset, "A day before"); CLINIC goes back to
    the clinic's times."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    await bot.sms(NUMBER, "/settings")
    asked = body(await bot.sms(NUMBER, "Appointment reminder times"))
    assert "2 for 2 hours before" in asked and "reply CLINIC" in asked, asked
    assert not numbered_lines(asked), asked
    assert "Saved" in body(await bot.sms(NUMBER, "2"))
    offsets = "select appointment_reminder_offsets from patients where id = $1"
    assert await admin_conn.fetchval(offsets, patient["id"]) == [120]

    await bot.sms(NUMBER, "/settings")
    await bot.sms(NUMBER, "Appointment reminder times")
    assert "Saved" in body(await bot.sms(NUMBER, "clinic"))
    assert await admin_conn.fetchval(offsets, patient["id"]) is None


async def test_a_number_typed_for_the_caregiver_delay_is_minutes(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "2" is two minutes (it was the second button, 60)."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    await bot.sms(NUMBER, "/settings")
    await bot.sms(NUMBER, "Caregiver")
    await bot.sms(NUMBER, "Maria")
    await bot.sms(NUMBER, "SMS")
    await bot.sms(NUMBER, "+12025550143")
    asked = body(await bot.sms(NUMBER, "Same as mine"))
    assert "How many minutes" in asked and not numbered_lines(asked), asked
    await bot.sms(NUMBER, "2")
    delay = await admin_conn.fetchval(
        "select alert_delay_minutes from caregivers where patient_id = $1", patient["id"]
    )
    assert delay == 2


async def test_the_caregiver_delay_sent_later_by_the_worker_is_not_numbered_either(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """The delay question refused by Twilio (5xx) stays a pending reply row; the worker's
    dispatcher sends it later, rebuilt from the row: it numbered the presets ("1 30", "2 60"),
    which the step does not read (a typed "2" is two minutes). Reported by H1 (session 22)."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    for text in ("/settings", "Caregiver", "Maria", "SMS", "+12025550143"):
        await bot.sms(NUMBER, text)
    bot.twilio.fail_next(20500, 500, to=NUMBER, times=10)
    await bot.sms(NUMBER, "Same as mine")
    pending = await admin_conn.fetchval(
        "select count(*) from scheduled_messages where status = 'pending' and kind = 'system'"
    )
    assert pending == 1
    bot.twilio.clear_failures()  # the provider is back
    bot.clock.now += timedelta(minutes=10)
    config = DispatcherConfig(worker_id="bot-tests", platform_rates={}, recipient_rates={})
    dispatcher = Dispatcher(bot.ctx.pool, bot.ctx.senders, TemplateRenderer(), bot.clock, config)
    assert await dispatcher.run_once() == 1
    asked = [m.body or "" for m in bot.twilio.messages if m.to == NUMBER][-1]
    assert "How many minutes" in asked and not numbered_lines(asked), asked
    await bot.sms(NUMBER, "2")
    delay = await admin_conn.fetchval(
        "select alert_delay_minutes from caregivers where patient_id = $1", patient["id"]
    )
    assert delay == 2


async def test_whatsapp_shows_the_caregiver_delays_as_buttons_and_a_number_stays_minutes(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """WhatsApp's real reply buttons (30, 60, 120) are back at the alert delay step (they went
    with its numbered menu), and still a typed "2" is two minutes, not the second button; a
    pressed button is its minutes."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="whatsapp")
    delay = "select alert_delay_minutes from caregivers where patient_id = $1"
    async with whatsapp_chat(bot, NUMBER, quick_replies=True) as wa:
        await wa("/start")
        for answer, minutes in (("2", 2), ("press 60", 60)):
            for text in ("/settings", "Caregiver", "Maria", "SMS", "+12025550143"):
                await wa(text)
            asked = await wa("Same as mine")
            assert "How many minutes" in asked and not numbered_lines(asked), asked
            assert wa.buttons() == ["30", "60", "120"]
            if answer.startswith("press "):
                await wa.press(answer.removeprefix("press "))
            else:
                await wa(answer)
            assert await admin_conn.fetchval(delay, patient["id"]) == minutes, answer
            await admin_conn.execute("delete from caregivers")


@pytest.mark.parametrize("channel", sorted(NUMBERED_CHANNELS))
async def test_no_step_numbers_a_menu_whose_numbers_it_reads(
    bot: Bot, admin_conn: asyncpg.Connection, channel: Channel
) -> None:
    """Every dialog step, asked on a numbered channel: a number its menu shows ("1".."n") is not
    also something the step reads when typed (a time, hours, minutes, a count)."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    for name, step in STEPS.items():
        if step.typed is None:
            continue
        conv = Conversation(
            id=uuid.uuid4(),
            channel=channel,
            chat_address=NUMBER,
            patient_id=patient["id"],
            step=name,
            state={"data": {"name": "Iron", "start": "2026-03-02", "cg_channel": "sms"}},
            locale="en",
        )
        event = InboundEvent(channel, "x", NUMBER, InboundKind.TEXT)
        turn = Turn(bot.ctx, admin_conn, event, conv, bot.clock(), uuid.uuid4())
        turn.patient, turn.patient_loaded = patient, True
        _, options = await step.prompt(turn)
        # Options whose labels are typed as they are (30 minutes) are buttons, never numbered.
        numbered = [] if step.typed_labels else options
        for number in range(1, len(numbered) + 1):
            turn.text = str(number)
            assert not step.typed(turn), (name, number, options)
        for label, _ in options if step.typed_labels else []:
            turn.text = label
            assert step.typed(turn), (name, label)


def test_the_skip_word_asked_for_is_one_a_step_takes() -> None:
    """The skip of /add's dose and pill steps and a reminder's Skip are one list of words
    (bot.routing.SKIP_WORDS), holding the word each language's prompt asks for."""
    for locale in texts.LOCALES:
        asked = texts.text(locale, "ask_pills_numbered").rsplit(" ", 1)[-1].rstrip(".")
        assert texts.fold_label(asked) in routing.SKIP_WORDS
        assert texts.fold_label(texts.text(locale, "btn_skip")) in routing.SKIP_WORDS
        assert routing.ANSWER_WORDS["k"] is routing.SKIP_WORDS
    turn = Turn.__new__(Turn)
    turn.text = "Omitir."
    assert _typed_skip(turn)
