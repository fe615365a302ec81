"""The same dialogs over Twilio SMS (numbered replies) and the carrier keywords."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot import keywords
from bot.steps import COMMANDS
from tests.bot.conftest import START, Bot
from tests.bot.helpers import (
    booked_appointment,
    dose_events,
    registered_patient,
    remind,
    reminded_doses,
    whatsapp_chat,
)

NUMBER = "+15005550199"


def body(calls: list) -> str:
    return "\n".join(c.body or "" for c in calls)


async def test_onboarding_and_medicine_over_sms(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    replies = await bot.sms(NUMBER, "START")
    assert "Privacy" in body(replies) and "1 I agree" in body(replies)
    assert "What should I call you" in body(await bot.sms(NUMBER, "1"))
    assert "1 English" in body(await bot.sms(NUMBER, "Ana"))
    await bot.sms(NUMBER, "2")  # Español
    replies = await bot.sms(NUMBER, "Chicago")
    assert "(Chicago)" in body(replies) and "3:00" in body(replies)  # 09:00 UTC -> 03:00
    assert "Añade tu primer medicamento" in body(await bot.sms(NUMBER, "1"))

    await bot.sms(NUMBER, "/add")
    await bot.sms(NUMBER, "Metformina")
    await bot.sms(NUMBER, "1 pastilla")
    await bot.sms(NUMBER, "mañana")  # 08:00 (no numbered menu: "1" would be 1:00)
    await bot.sms(NUMBER, "21:30")
    await bot.sms(NUMBER, "listo")
    await bot.sms(NUMBER, "2")  # Entre semana
    await bot.sms(NUMBER, "2")  # Mañana (tomorrow)
    assert "O responde OMITIR" in body(await bot.sms(NUMBER, "2026-06-30"))
    await bot.sms(NUMBER, "omitir")  # the pill count: "1" would be one pill
    replies = await bot.sms(NUMBER, "1")  # Guardar
    assert "Guardado" in body(replies)

    patient = await admin_conn.fetchrow("select * from patients")
    assert (patient["locale"], patient["timezone"]) == ("es", "America/Chicago")
    assert patient["channel_order"] == ["sms"]
    schedule = await admin_conn.fetchrow("select * from reminder_schedules")
    assert schedule["times_of_day"] == [time(8, 0), time(21, 30)]
    assert schedule["days_of_week"] == [1, 2, 3, 4, 5]
    assert str(schedule["start_date"]) == "2026-03-03"  # tomorrow in Chicago
    assert str(schedule["end_date"]) == "2026-06-30"


async def test_yes_typed_at_the_privacy_question_agrees(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient over SMS answers "Do you agree?" with YES (or "Sí", "ok", "I agree"), as the
    button's own words: it was "Please choose whether you agree", while a typed "no" declined
    (the first word of "No thanks"). Found by hand in medremind dev's console."""
    for number, agreement in (
        (NUMBER, "YES"),
        ("+15005550198", "Sí"),
        ("+15005550197", "ok"),
        ("+15005550196", "I agree"),
    ):
        assert "Privacy" in body(await bot.sms(number, "START"))
        replies = await bot.sms(number, agreement)
        assert "What should I call you" in body(replies), (agreement, body(replies))
    assert await admin_conn.fetchval("select count(*) from patients") == 4
    # "no" still declines; a word that is neither asks again.
    assert "Privacy" in body(await bot.sms("+15005550195", "START"))
    assert "agree" in body(await bot.sms("+15005550195", "maybe"))
    await bot.sms("+15005550195", "no")
    assert await admin_conn.fetchval("select count(*) from patients") == 4


async def test_a_number_at_the_dose_and_pill_steps_is_the_dose_and_the_count(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "1" typed for the dose (1 tablet) and the pills (one left) is what it says: the Skip of
    those steps was the menu's "1", so the medicine was saved with no dose and no pill count
    (found by hand over WhatsApp, the same over SMS). The skip word still skips."""
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    await bot.sms(NUMBER, "/add")
    asked = body(await bot.sms(NUMBER, "Iron"))
    assert "Or reply SKIP." in asked and "\n1 Skip" not in asked, asked
    await bot.sms(NUMBER, "1")  # the dose: 1 (tablet)
    for text in ("08:00", "Done", "Every day", "Today", "No end date"):
        await bot.sms(NUMBER, text)
    await bot.sms(NUMBER, "1")  # the pills: one left
    assert "Saved" in body(await bot.sms(NUMBER, "Save"))
    medicine = await admin_conn.fetchrow("select dose, pill_count from medications")
    assert (medicine["dose"], medicine["pill_count"]) == ("1", 1)

    await bot.sms(NUMBER, "/add")
    await bot.sms(NUMBER, "Zinc")
    await bot.sms(NUMBER, "skip")
    # "everyday" in one word is every day (it was "Please pick one of the options").
    for text in ("20:00", "Done", "everyday", "Today"):
        await bot.sms(NUMBER, text)
    # The end date's skip is the same word (it was "I could not read that date").
    assert "pills" in body(await bot.sms(NUMBER, "skip"))
    await bot.sms(NUMBER, "SKIP")
    assert "Saved" in body(await bot.sms(NUMBER, "Save"))
    zinc = await admin_conn.fetchrow(
        "select m.dose, m.pill_count, s.end_date, s.days_of_week from medications m"
        " join reminder_schedules s on s.medication_id = m.id where m.name = 'Zinc'"
    )
    assert tuple(zinc) == (None, None, None, None)


async def test_reminder_answered_by_number(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=3)])
    await remind(bot, admin_conn, patient["id"], dose_id=dose_id)
    assert (bot.sms_to(NUMBER)[-1].body or "").endswith("1 Taken\n2 Snooze 15 min\n3 Skip")
    # A photo of the pills (an MMS with no text) is no answer, and the patient is told to type
    # one: "Sorry, I didn't understand that" left them wondering whether it counted.
    photo = body(await bot.sms(NUMBER, "", media="image/jpeg"))
    assert photo == "I can only read text. Please type your message or your answer."
    assert await admin_conn.fetchval("select status from dose_events") == "due"  # unanswered
    # A number that is no patient's is told how to start, whatever it sent.
    assert "Send /start" in body(await bot.sms("+15005550198", "", media="image/jpeg"))
    replies = await bot.sms(NUMBER, "1")
    assert "Taken at" in body(replies)
    row = await admin_conn.fetchrow("select status, answered_channel from dose_events")
    assert (row["status"], row["answered_channel"]) == ("taken", "sms")
    # Another "1" finds nothing open: the answer was recorded once.
    assert "Nothing is waiting" in body(await bot.sms(NUMBER, "1"))
    assert await admin_conn.fetchval("select status from dose_events") == "taken"


async def test_snooze_typed_with_minutes(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    """Typed "snooze 90" was not understood: only the offered "Snooze 15 min" was. The minutes
    go to the newest reminder that asks, bounded as button data is (1..720); outside that the
    patient is told the range and nothing is recorded."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    # Nothing asked yet: the patient is told nothing waits, as for a bare "snooze".
    assert "Nothing is waiting" in body(await bot.sms(NUMBER, "snooze 30"))
    older, newer = await dose_events(
        admin_conn, patient["id"], [START - timedelta(minutes=50), START - timedelta(minutes=3)]
    )
    await remind(bot, admin_conn, patient["id"], dose_id=older)
    bot.clock.advance(seconds=1)
    await remind(bot, admin_conn, patient["id"], dose_id=newer)
    bot.clock.advance(seconds=1)
    for out_of_range in ["snooze 0", "Snooze 721", "snooze 99999"]:
        told = body(await bot.sms(NUMBER, out_of_range))
        assert (
            told == 'A snooze can be 1 to 720 minutes (12 hours). Send, for example, "snooze 90".'
        )
    statuses = "select id, status, snoozed_until from dose_events"
    assert {r["status"] for r in await admin_conn.fetch(statuses)} == {"due"}

    said = body(await bot.sms(NUMBER, "snooze 90"))
    assert "remind you again" in said, said
    rows = {r["id"]: r for r in await admin_conn.fetch(statuses)}
    assert rows[newer]["snoozed_until"] == bot.clock.now + timedelta(minutes=90)
    assert rows[older]["status"] == "due"
    # The snooze's reply names the older reminder, with its typed answers, and asks it again:
    # a snooze typed next is that one's (tests/bot/test_snooze_again.py); the dose just
    # snoozed is snoozed again after it.
    assert "Also waiting for your answer: your 8:10 AM dose." in said, said
    assert "remind you again" in body(await bot.sms(NUMBER, "Posponer 720 min."))
    rows = {r["id"]: r for r in await admin_conn.fetch(statuses)}
    assert rows[older]["snoozed_until"] == bot.clock.now + timedelta(minutes=720)
    assert "remind you again" in body(await bot.sms(NUMBER, "snooze 30"))
    rows = {r["id"]: r for r in await admin_conn.fetch(statuses)}
    assert rows[newer]["snoozed_until"] == bot.clock.now + timedelta(minutes=30)
    # In hours, as people say a snooze: it was "Sorry, I didn't understand that" (found over SMS).
    for typed, minutes in [("snooze an hour", 60), ("posponer 2 horas", 120),
                           ("snooze for half an hour", 30), ("en una hora", 60)]:  # fmt: skip
        bot.clock.advance(seconds=1)
        said = body(await bot.sms(NUMBER, typed))
        assert "remind you again" in said, (typed, said)
        until = {r["snoozed_until"] for r in await admin_conn.fetch(statuses)}
        assert bot.clock.now + timedelta(minutes=minutes) in until, (typed, until)
    told = body(await bot.sms(NUMBER, "snooze 13 hours"))
    assert told.startswith("A snooze can be 1 to 720 minutes (12 hours)."), told


async def test_a_reminder_sent_before_the_router_is_answerable_after_the_upgrade(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Migration 20260101008020 records the question of reminders sent before questions were."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=3)])
    # Sent minutes before the upgrade (the migration's window is the database's clock).
    await admin_conn.execute(
        """insert into scheduled_messages
             (patient_id, kind, status, dose_event_id, sent_at, channel_used, platform)
           values ($1, 'medication_reminder', 'sent', $2, now() - interval '5 minutes', 'sms',
                   'auto')""",
        patient["id"],
        dose_id,
    )
    migration = (
        Path(__file__).parents[2] / "supabase/migrations/20260101008020_backfill_open_questions.sql"
    )
    # It ran before migration 20260101013410, which gives a message's question the message's id.
    ids = Path(__file__).parents[2] / (
        "supabase/migrations/20260101013410_sent_message_questions_take_their_message_id.sql"
    )
    await admin_conn.execute(
        "alter table conversation_questions"
        " drop constraint conversation_questions_id_is_its_message"
    )
    await admin_conn.execute(migration.read_text())
    await admin_conn.execute(migration.read_text())  # once per message, however often it runs
    await admin_conn.execute(ids.read_text())
    assert await admin_conn.fetchval("select count(*) from conversation_questions") == 1
    assert await admin_conn.fetchval("select id = message_id from conversation_questions")
    assert "Taken at" in body(await bot.sms(NUMBER, "1"))
    assert await admin_conn.fetchval("select status from dose_events") == "taken"


# With punctuation too: "Stop." was answered "Sorry, I didn't understand that" (found by hand
# over signed Twilio webhooks) and the reminders went on.
STOP_WORDS = ["STOP", "stop", "  Stop ", "S T O P", "unsubscribe", "Cancel", "end", "QUIT",
              "revoke", "OptOut", "stopall", "Stop.", "STOP!", "opt-out", "'stop'"]  # fmt: skip


async def test_stop_variants_opt_out_once(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    for index, word in enumerate(STOP_WORDS):
        number = f"+1500555{1000 + index}"
        await registered_patient(bot, admin_conn, number, channel="sms")
        replies = await bot.sms(number, word)
        assert len(replies) == 1 and replies[0].body is not None, word
        assert "not get any more messages" in replies[0].body, word
        assert await admin_conn.fetchval(
            "select opted_out_at from contact_points where address = $1", number
        ), word
        assert await bot.sms(number, word) == []  # confirmed once
        assert await bot.sms(number, "/help") == []  # nothing else is answered while opted out


async def test_start_variants_opt_back_in(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    for word in ["START", "yes", " Unstop ", "Start!"]:
        await bot.sms(NUMBER, "STOP")
        replies = await bot.sms(NUMBER, word)
        assert "subscribed again" in body(replies), word
        assert await admin_conn.fetchval("select opted_out_at from contact_points") is None
    # Not opted out: YES is an ordinary answer, not a keyword.
    assert "subscribed" not in body(await bot.sms(NUMBER, "yes"))


async def test_slash_stop_and_start_are_stop_and_start_on_sms(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A patient who types the Telegram-style /stop on SMS means to stop: it was answered "I
    don't know that command" and the reminders went on. Confirmed once, as STOP is; /start
    (not only START) brings them back, and otherwise is the ordinary /start."""
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    for stop, start in [("/stop", "/start"), (" /STOP ", "/Start")]:
        replies = await bot.sms(NUMBER, stop)
        assert len(replies) == 1 and "not get any more messages" in body(replies), stop
        assert await admin_conn.fetchval("select opted_out_at from contact_points")
        assert await bot.sms(NUMBER, stop) == []  # confirmed once
        assert await bot.sms(NUMBER, "/help") == []  # nothing else answered meanwhile
        assert "subscribed again" in body(await bot.sms(NUMBER, start)), start
        assert await admin_conn.fetchval("select opted_out_at from contact_points") is None
    # Not opted out: /start is the ordinary /start; an argument makes /stop no opt-out.
    assert "subscribed" not in body(await bot.sms(NUMBER, "/start"))
    assert "don't know that command" in body(await bot.sms(NUMBER, "/stop now"))
    assert await admin_conn.fetchval("select opted_out_at from contact_points") is None


async def test_spanish_command_words_run_their_commands(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Spanish "hoy" was told nothing waits for an answer where "today" got "send /today"; then
    "send /today (with the slash)". Every Spanish word names a command the bot has, and runs it;
    CANCELAR stays STOP's Spanish on SMS."""
    await registered_patient(bot, admin_conn, NUMBER, channel="sms", locale="es")
    ran = [("hoy", "No hay dosis"), (" Hoy ", "No hay dosis"), ("medicamentos", "Aun no tienes"),
           ("pausa", "Todos los recordatorios estan en pausa")]  # fmt: skip
    for word, answer in ran:
        assert body(await bot.sms(NUMBER, word)).startswith(answer), word
    assert set(keywords.COMMAND_WORDS_ES.values()) <= set(COMMANDS)
    assert await admin_conn.fetchval("select reminders_paused from patients") is True
    assert "No recibirás más mensajes" in body(await bot.sms(NUMBER, "cancelar"))


async def test_spanish_slash_commands_run_their_commands(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """/hoy, /ayuda, /pausa typed with the slash (Telegram, the console) are /today, /help,
    /pause: each was "No conozco ese comando"."""
    chat = bot.new_chat()
    await registered_patient(bot, admin_conn, chat, locale="es")
    assert "No conozco" not in "".join(c.text or "" for c in await bot.send(chat, "/hoy"))
    assert "/today" in "".join(c.text or "" for c in await bot.send(chat, "/Ayuda"))
    await bot.send(chat, "/pausa")
    assert await admin_conn.fetchval("select reminders_paused from patients") is True
    assert "No conozco" in "".join(c.text or "" for c in await bot.send(chat, "/hola"))


async def test_help_variants_give_clinic_contact(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    # AYUDA too: the bot speaks Spanish, and a Spanish-speaking patient's "Ayuda" was answered
    # "Nothing is waiting for an answer right now" (found over SMS with web + worker processes).
    for word in ["HELP", "help", " Info", "Ayuda", "AYUDA", "Help?", "¿Ayuda?"]:
        replies = await bot.sms(NUMBER, word)
        assert "Sunrise Clinic" in body(replies) and "+15005550100" in body(replies), word
    # Not a keyword: a longer sentence containing the word.
    assert "Sunrise Clinic" not in body(await bot.sms(NUMBER, "help me please"))


async def test_help_names_a_clinic_that_gave_no_contact(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A clinic with neither phone nor e-mail: HELP said only "MedRemind medication reminders",
    not whose messages these are (found by hand over a signed Twilio inbound)."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    await admin_conn.execute(
        "update organizations set contact_phone = null, contact_email = null where id = $1",
        patient["organization_id"],
    )
    assert body(await bot.sms(NUMBER, "HELP")) == (
        "MedRemind medication reminders from Sunrise Clinic. Reply STOP to unsubscribe."
    )
    assert "MedRemind de Sunrise Clinic." in body(await bot.sms(NUMBER, "AYUDA"))
    assert "Your clinic: Sunrise Clinic." in body(await bot.sms(NUMBER, "/help"))


async def test_a_menu_sent_apart_from_its_text_starts_with_its_first_choice(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """/settings over SMS is its summary and then its menu, two messages under the 3-segment
    cap: the menu's began with two empty lines ("\n\n1 Time zone...", found by hand over a
    signed Twilio inbound)."""
    await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    summary, menu = await bot.sms(NUMBER, "/settings")
    assert (summary.body or "").startswith("Settings:")
    assert (menu.body or "").startswith("1 Time zone\n2 ")


async def test_stop_before_registration_is_honoured(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    assert "not get any more" in body(await bot.sms(NUMBER, "STOP"))
    assert await bot.sms(NUMBER, "hello") == []
    assert await admin_conn.fetchval("select count(*) from patients") == 0
    assert "subscribed again" in body(await bot.sms(NUMBER, "START"))


async def test_appointment_letters_over_sms(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    appt = await booked_appointment(admin_conn, patient, START + timedelta(days=2))
    listing = body(await bot.sms(NUMBER, "/appointments"))
    assert "Sunrise Clinic" in listing and "reply C to confirm" in listing
    assert "CANCEL" not in listing.upper().replace("X TO CANCEL", "")
    assert "on Telegram only" in body(await bot.sms(NUMBER, "/export"))
    assert "Confirmed" in body(await bot.sms(NUMBER, "c"))
    assert await admin_conn.fetchval("select status from appointments where id = $1", appt) == (
        "confirmed"
    )
    # The list's question has its answer: a letter now answers nothing until it is asked again.
    assert "Nothing is waiting" in body(await bot.sms(NUMBER, "R"))
    await bot.sms(NUMBER, "/appointments")
    assert "asked the clinic" in body(await bot.sms(NUMBER, "R"))
    assert await admin_conn.fetchval("select status from appointments") == "reschedule_requested"
    await bot.sms(NUMBER, "/appointments")
    assert "is cancelled" in body(await bot.sms(NUMBER, "x"))
    assert await admin_conn.fetchval("select status from appointments") == "cancelled"


async def test_whatsapp_numbered_dialog_and_stop(bot: Bot, admin_conn: asyncpg.Connection) -> None:
    async with whatsapp_chat(bot, NUMBER) as wa:
        assert "1 I agree" in await wa("/start")
        assert "What should I call you" in await wa("1")
        contact = await admin_conn.fetchrow("select channel, address from contact_points")
        assert (contact["channel"], contact["address"]) == ("whatsapp", NUMBER)
        assert "not get any more" in await wa("STOP")
        assert await admin_conn.fetchval("select opted_out_at from contact_points") is not None


async def test_more_waiting_counts_doses_and_appointments_not_their_messages(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """A dose's reminder and its follow-up, and an appointment's confirmation request and
    reminder, are two things waiting, not four: an unclear reply said "(3 more waiting after this
    one.)" with one more thing to answer (seen on WhatsApp with three nags and two appointment
    messages: "5 more")."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=20)])
    await remind(bot, admin_conn, patient["id"], dose_id=dose_id)
    bot.clock.advance(minutes=15)
    await remind(bot, admin_conn, patient["id"], dose_id=dose_id, kind="dose_followup")
    appointment = await booked_appointment(admin_conn, patient, START + timedelta(days=2))
    for kind in ("appointment_confirmation", "appointment_reminder"):
        bot.clock.advance(minutes=1)
        await remind(bot, admin_conn, patient["id"], appointment_id=appointment, kind=kind)

    reply = body(await bot.sms(NUMBER, "banana"))
    assert "appointment" in reply and "(1 more waiting after this one.)" in reply, reply
    # The appointment answered, the dose is all that waits: nothing "more".
    await bot.sms(NUMBER, "C")
    reply = body(await bot.sms(NUMBER, "banana"))
    assert "dose" in reply and "more waiting" not in reply, reply


async def test_a_snoozed_dose_can_be_reported_taken_before_its_reminder_comes_back(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Over SMS (and the console) the snooze's reply offered nothing: a patient who took the pill
    five minutes later and texted "1" or "taken" heard "Nothing is waiting for an answer right
    now" (found in `medremind dev`'s console) and was reminded again anyway. Telegram's reply
    keeps a Taken button; the numbered one now offers "1 Taken" (and the other snooze lengths,
    tests/bot/test_snooze_again.py)."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    (dose_id,) = await dose_events(admin_conn, patient["id"], [START - timedelta(minutes=3)])
    await remind(bot, admin_conn, patient["id"], dose_id=dose_id)
    snoozed = body(await bot.sms(NUMBER, "2"))
    assert "remind you again" in snoozed and "\n\n1 Taken\n2 Snooze 30 min" in snoozed, snoozed
    assert await admin_conn.fetchval("select status from dose_events") == "snoozed"

    bot.clock.advance(minutes=5)
    assert "Taken at" in body(await bot.sms(NUMBER, "1"))
    assert await admin_conn.fetchval("select status from dose_events") == "taken"
    # The snoozed reminder is withdrawn: nothing more about this dose.
    assert not await admin_conn.fetch(
        "select 1 from scheduled_messages where dose_event_id = $1 and status = 'pending'",
        dose_id,
    )


async def test_a_new_sms_patient_is_spoken_to_in_the_services_default_language(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """MEDREMIND_DEFAULT_LOCALE was read and never used: SMS and WhatsApp send no language, and
    a newcomer of a Spanish service was asked in English. It is the language of a new chat that
    says none now (a Telegram chat in a language the bot speaks keeps its own)."""
    bot.ctx = dataclasses.replace(
        bot.ctx, settings=bot.ctx.settings.model_copy(update={"default_locale": "es"})
    )
    assert "Envía /start" in body(await bot.sms(NUMBER, "hola"))
    assert "Privacidad" in body(await bot.sms(NUMBER, "START"))
    locale = "select locale from conversations where chat_address = $1"
    assert await admin_conn.fetchval(locale, NUMBER) == "es"


@pytest.mark.parametrize(
    ("said", "hint"),
    [
        ("Hola", "¡Hola! Envía /start para configurar tus recordatorios."),
        ("¡Buenos días!", "¡Hola! Envía /start para configurar tus recordatorios."),
        ("hello", "Hi! Send /start to set up your reminders."),
    ],
)
async def test_a_greeting_from_a_number_that_never_registered_is_answered_in_its_language(
    bot: Bot, said: str, hint: str
) -> None:
    """ "Hola" from a number that never registered was told in English to send /start (found
    by hand over WhatsApp in medremind dev); a Spanish greeting gets the hint in Spanish (the
    registration then asks which language, as always)."""
    assert body(await bot.sms(NUMBER, said)) == hint


async def test_while_paused_what_waits_is_offered_without_its_snooze(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """Paused, with two doses waiting: a typed "1" answered one and named the other with "Reply
    Taken, Snooze 30 min or Skip" (a word not understood listed "2 Snooze 15 min"), and the "2"
    that followed was refused, "Your reminders are paused" (found over SMS). What waits is
    offered without the Snooze a pause refuses; each answer keeps its number ("3 Skip")."""
    patient = await registered_patient(bot, admin_conn, NUMBER, channel="sms")
    due = [START - timedelta(minutes=30), START]
    await reminded_doses(bot, admin_conn, patient["id"], due, apart=timedelta(minutes=1))
    await bot.sms(NUMBER, "/pause")
    said = body(await bot.sms(NUMBER, "1"))
    assert "Taken at" in said and "Reply Taken or Skip." in said, said
    said = body(await bot.sms(NUMBER, "banana"))
    assert said.endswith("\n1 Taken\n3 Skip"), said
    assert "Skipped" in body(await bot.sms(NUMBER, "3"))
    assert await admin_conn.fetchval(
        "select array_agg(status order by due_at) from dose_events"
    ) == ["skipped", "taken"]  # "1" went to the newest


async def test_an_appointment_confirmed_in_words_while_a_dose_waits(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    """ "sí, ahí estaré" and "voy" to an appointment reminder, a dose's reminder sent after it,
    were "Perdona, no lo he entendido" (found over SMS): only "C", "1" and "confirmo" were read.
    The words people answer "I'll be there" with confirm it, in either language."""
    patient = await registered_patient(
        bot, admin_conn, NUMBER, channel="sms", locale="es", timezone="Australia/Lord_Howe"
    )
    appointment = await booked_appointment(admin_conn, patient, START + timedelta(days=1))
    await remind(
        bot, admin_conn, patient["id"], appointment_id=appointment, kind="appointment_reminder"
    )
    bot.clock.advance(minutes=1)
    (dose,) = await dose_events(admin_conn, patient["id"], [START])
    await remind(bot, admin_conn, patient["id"], dose_id=dose)
    said = body(await bot.sms(NUMBER, "sí, ahí estaré"))
    assert said.startswith("Confirmada:"), said
    assert await admin_conn.fetchval("select status from appointments") == "confirmed"
    assert await admin_conn.fetchval("select status from dose_events") == "due"
