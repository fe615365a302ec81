"""Preferences in /settings (issue 17): which messages, on which channel, and appointment reminder
times, over Telegram buttons and as numbered SMS answers in Spanish."""

from __future__ import annotations

import asyncpg

from scheduler.planner import replan_patient
from tests.bot.conftest import START, Bot
from tests.bot.helpers import registered_patient
from tests.factories import create_medication

NUMBER = "+15005550188"


def body(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


async def _prefs(conn: asyncpg.Connection, patient_id: object) -> dict[str, tuple]:
    rows = await conn.fetch(
        "select category, patient_choice, clinic_choice, channel from patient_preferences"
        " where patient_id = $1",
        patient_id,
    )
    return {r["category"]: (r["patient_choice"], r["clinic_choice"], r["channel"]) for r in rows}


async def test_categories_channel_and_offsets_by_buttons(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await admin_conn.execute(
        "insert into contact_points (patient_id, channel, address, verified)"
        " values ($1, 'sms', '+15005550177', true)",
        patient["id"],
    )
    await bot.send(chat, "/settings")
    menu = bot.last_text(chat)
    assert "Messages: Medication reminders: on, Appointment reminders: on, Clinic news: on" in menu
    assert "Appointment reminders: the clinic's (24 h, 2 h)" in menu
    await bot.press(chat, "Which messages")
    await bot.press(chat, "Clinic news")
    assert bot.last_text(chat).startswith("Clinic news: now on.")
    await bot.press(chat, "Stop them")
    assert bot.last_text(chat) == (
        "Saved. Clinic news: off. You can turn them on again in /settings."
    )
    await bot.send(chat, "/settings")
    await bot.press(chat, "Which messages")
    await bot.press(chat, "Medication reminders")
    await bot.press(chat, "Send them by SMS")
    await bot.send(chat, "/settings")
    await bot.press(chat, "Appointment reminder times")
    await bot.send(chat, "48h 90m")  # typed: hours and minutes
    assert bot.last_text(chat) == "Saved."
    await bot.send(chat, "/settings")
    assert "Clinic news: off" in bot.last_text(chat)
    assert "Medication reminders: on (via SMS)" in bot.last_text(chat)
    assert "Appointment reminders: 48 h, 90 min before" in bot.last_text(chat)

    assert await _prefs(admin_conn, patient["id"]) == {
        "clinic_news": ("out", None, None),
        "medication": (None, None, "sms"),
    }
    assert await admin_conn.fetchval(
        "select appointment_reminder_offsets from patients where id = $1", patient["id"]
    ) == [2880, 90]
    # A typo is refused with an example; the clinic's times come back with the preset.
    await bot.press(chat, "Appointment reminder times")
    await bot.send(chat, "tomorrow")
    assert "like 24 2" in bot.last_text(chat)
    await bot.press(chat, "The clinic's times")
    assert (
        await admin_conn.fetchval(
            "select appointment_reminder_offsets from patients where id = $1", patient["id"]
        )
        is None
    )


async def test_opt_out_by_numbered_sms_answers_in_spanish(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms", locale="es")
    menu = body(await bot.sms(NUMBER, "/settings"))
    assert "Mensajes: Recordatorios de medicacion: activados" in menu
    number = next(
        line.split(" ", 1)[0] for line in menu.splitlines() if line.endswith(" Qué mensajes")
    )
    which = body(await bot.sms(NUMBER, number))
    assert "¿Qué mensajes quieres cambiar?" in which
    assert "2 Recordatorios de citas" in which
    choice = body(await bot.sms(NUMBER, "2"))
    assert "Recordatorios de citas: ahora activados." in choice and "2 No enviarlos" in choice
    saved = body(await bot.sms(NUMBER, "2"))
    assert "Guardado. Recordatorios de citas: desactivados." in saved
    assert await _prefs(admin_conn, patient["id"]) == {"appointments": ("out", None, None)}
    assert await admin_conn.fetchval(
        "select public.patient_opted_out($1, 'appointments')", patient["id"]
    )


async def test_medication_opt_out_withdraws_planned_reminders_and_opt_in_plans_again(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat)
    await create_medication(admin_conn, patient["id"])
    await replan_patient(admin_conn, patient["id"], START)

    async def pending() -> int:
        return await admin_conn.fetchval(
            "select count(*) from scheduled_messages where patient_id = $1"
            " and kind = 'medication_reminder' and status = 'pending'",
            patient["id"],
        )

    assert await pending() > 0
    for answer in ("Stop them", "Send them"):
        await bot.send(chat, "/settings")
        await bot.press(chat, "Which messages")
        await bot.press(chat, "Medication reminders")
        await bot.press(chat, answer)
        if answer == "Stop them":
            assert await pending() == 0  # withdrawn at once, like a pause
    assert await pending() > 0  # planned again from now on


async def test_a_patient_of_no_clinic_sees_only_what_applies(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A self-registered patient (no clinic) saw "Appointment reminders: the clinic's (24 h, 2 h)",
    "Clinic news" and an appointment-times button: none of it can reach them."""
    chat = bot.new_chat()
    await bot.send(chat, "/start")
    await bot.press(chat, "I agree")
    await bot.send(chat, "Ana")
    await bot.press(chat, "English")
    await bot.send(chat, "UTC")
    await bot.press(chat, "Yes")
    await bot.press(chat, "Skip")
    assert await admin_conn.fetchval("select organization_id is null from patients")
    await bot.send(chat, "/settings")
    menu = bot.last_text(chat)
    assert "Messages: Medication reminders: on" in menu, menu
    assert "Appointment" not in menu and "Clinic news" not in menu and "clinic" not in menu
    await bot.press(chat, "Which messages")
    assert "Clinic news" not in bot.last_text(chat)
    await bot.press(chat, "Medication reminders")
    assert bot.last_text(chat).startswith("Medication reminders: now on.")
