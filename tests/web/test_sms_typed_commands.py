"""A command typed without its slash over SMS or WhatsApp ("pause", "PAUSA", "Today") runs.

On a phone's SMS app a patient types "pause" as they would say it; the bot answered "Nothing is
waiting for an answer right now", and the reminders went on. Then it named the command back ("To
do that, send /pause (with the slash)"; to a Spanish patient's PAUSA, "envía /pause": the
English name) and still nothing paused. Carriers' own words are bare (STOP, HELP), and a slash is
a chore on a phone's keyboard: a word nothing open takes, that names a command, runs it, as with
its slash. A word that is an answer to something open stays that answer; those that erase ask
first (delete_me), as with the slash.
"""

from __future__ import annotations

import asyncpg
import httpx

from core.db import Database
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import Clock, sms_chat, twilio_inbound, worker
from tests.web.test_answer_router import _reminder
from tests.web.test_times_question_names_how_often import web_wa  # noqa: F401  (fixture)

NUMBER = "+14155550178"


async def test_bare_command_words_run_their_commands(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """English and Spanish patients on SMS, nothing waiting: each bare word runs its command
    (answered in the patient's language); a word that is no command still gets "nothing is
    waiting"."""
    english = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": NUMBER}, locale="en"
    )
    spanish_number = "+14155550179"
    spanish = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": spanish_number}, locale="es"
    )

    async def say(number: str, text: str) -> str:
        before = len(fake_twilio.messages)
        await twilio_inbound(web, number, text)
        return "\n".join(m.body or "" for m in fake_twilio.messages[before:] if m.to == number)

    paused = "select reminders_paused from patients where id = $1"
    assert (await say(NUMBER, "pause")).startswith("All reminders are paused.")
    assert await admin_conn.fetchval(paused, english["id"]) is True
    assert (await say(NUMBER, " Resume ")).startswith("Reminders are back on")
    assert await admin_conn.fetchval(paused, english["id"]) is False
    assert (await say(NUMBER, "Today")).startswith("No doses planned for today")
    assert (await say(NUMBER, "banana")).startswith("Nothing is waiting for an answer")

    assert (await say(spanish_number, "PAUSA")).startswith(
        "Todos los recordatorios estan en pausa."
    )
    assert await admin_conn.fetchval(paused, spanish["id"]) is True
    assert (await say(spanish_number, "reanudar")).startswith("Los recordatorios vuelven")
    assert await admin_conn.fetchval(paused, spanish["id"]) is False
    assert (await say(spanish_number, "hoy")).startswith("No hay dosis")
    assert (await say(spanish_number, "medicamentos")).startswith("Aun no tienes medicamentos")
    assert "¿Como se llama el medicamento?" in await say(spanish_number, "Añadir")
    # In the middle of /add the word is an answer (the medicine's name), not a command.
    assert "¿Qué dosis" in await say(spanish_number, "pausa")
    # Erasing everything asks first, as /delete_me does.
    asked = await say(spanish_number, "delete_me")
    assert await admin_conn.fetchval("select count(*) from patients") == 2, asked
    # CANCELAR stays STOP's Spanish on SMS; AYUDA its HELP.
    assert "No recibirás más mensajes" in await say(spanish_number, "cancelar")


async def test_over_whatsapp_too(
    web_wa: httpx.AsyncClient,  # noqa: F811  (the fixture imported above)
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    number = "+14155550181"
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"whatsapp": number}, locale="es"
    )
    said = await sms_chat(web_wa, fake_twilio, f"whatsapp:{number}")("Pausa")
    assert said.startswith("Todos los recordatorios están en pausa."), said
    paused = "select reminders_paused from patients where id = $1"
    assert await admin_conn.fetchval(paused, patient["id"]) is True


async def test_a_command_word_while_a_reminder_waits_runs_and_names_the_reminder(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """With a reminder waiting, "pause" got "Sorry, I didn't understand that. You can answer
    your dose": the command runs now, and the reminder is named after it, still open."""
    number = "+14155550180"
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": number}, locale="en"
    )
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    before = len(fake_twilio.messages)
    await twilio_inbound(web, number, "Pause")
    replies = [m.body or "" for m in fake_twilio.messages[before:] if m.to == number]
    assert len(replies) == 1, replies
    done, _, waiting = replies[0].rpartition("\n\n")
    assert done.startswith("All reminders are paused."), done
    assert waiting.startswith("Also waiting for your answer: your ")
    # No Snooze: a pause refuses it (docs/preferences.md), so it is not offered.
    assert waiting.endswith(" dose. Reply Taken or Skip."), waiting
    status = "select status from dose_events where id = $1"
    assert await admin_conn.fetchval(status, dose) == "due"
