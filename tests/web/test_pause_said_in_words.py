"""/pause and /resume said in words over SMS: "pause for 3 days", "pausa 3 días", "resume my
reminders" (bot.command_phrases).

The bare word ran its command and "/pause 3d" paused, but the sentence a patient types on a
phone, "pause for 3 days", was "Nothing is waiting for an answer right now" and the reminders
went on. Now it pauses, answered as the command is (in the patient's language, the day the
patient meant it to end named in their zone, since a pause has none); a phrase that is an
answer to something open stays that answer, and "pause metformin" pauses nothing.
"""

from __future__ import annotations

import asyncpg
import httpx

from core.db import Database
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import Clock, sms_chat, worker
from tests.web.test_answer_router import _reminder

PAUSED = "select reminders_paused from patients where id = $1"


async def _patient(
    conn: asyncpg.Connection, org: asyncpg.Record, number: str, locale: str, zone: str = "UTC"
) -> asyncpg.Record:
    """A clinic's patient who texts from ``number`` (SMS), speaks ``locale``, lives in ``zone``."""
    return await factories.create_patient(
        conn, org["id"], contacts={"sms": number}, locale=locale, timezone=zone
    )


async def test_pause_and_resume_said_in_words(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """English in Auckland (11:50 UTC is 00:50 the next day there) and Spanish in Madrid: each
    phrase pauses or resumes as the command does, and a length names the day it meant, counted
    from the patient's own today."""
    english = await _patient(admin_conn, org, "+14155550191", "en", "Pacific/Auckland")
    say = sms_chat(web, fake_twilio, "+14155550191")
    said = await say("Pause for 3 days")
    assert said.startswith("All reminders are paused."), said
    assert "come back by themselves on Sunday, March 8, 2026 at 12:50 AM." in said, said
    assert await admin_conn.fetchval(PAUSED, english["id"]) is True
    assert (await say("Resume my reminders")).startswith("Reminders are back on")
    assert await admin_conn.fetchval(PAUSED, english["id"]) is False
    assert (await say("please pause all reminders")).startswith("All reminders are paused.")
    assert (await say("resume reminders")).startswith("Reminders are back on")
    # A medicine's name is no length: nothing paused, and the patient is told where one
    # medicine is paused ("Sorry, I didn't understand that" before).
    said = await say("pause metformin")
    assert said.startswith("To pause one medicine, send /meds and pick it there."), said
    assert await admin_conn.fetchval(PAUSED, english["id"]) is False

    spanish = await _patient(admin_conn, org, "+14155550192", "es", "Europe/Madrid")
    say = sms_chat(web, fake_twilio, "+14155550192")
    said = await say("pausa 3 días")
    assert said.startswith("Todos los recordatorios estan en pausa."), said
    assert "Se reanudaran solos el sabado, 7 de marzo de 2026 a las 12:50." in said, said
    assert await admin_conn.fetchval(PAUSED, spanish["id"]) is True
    assert (await say("Reanudar los recordatorios")).startswith("Los recordatorios vuelven")
    # Again: they were not paused, and the patient is told so ("vuelven a estar activos" read
    # as if something had been off).
    said = await say("reanudar")
    assert said.startswith("Tus recordatorios estan activos: no estaban en pausa."), said
    assert (await say("reanudar el ibuprofeno")).startswith("Para reanudar un medicamento")
    assert await admin_conn.fetchval(PAUSED, spanish["id"]) is False


async def test_the_slash_command_names_the_day_too(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """ "/pause 3d" said "A pause has no end date: they stay off until you send /resume" without
    the day the patient counted on: now the same end as "pause for 3 days"; over SMS in
    GSM-7's letters."""
    await _patient(admin_conn, org, "+14155550193", "en")
    said = await sms_chat(web, fake_twilio, "+14155550193")("/pause 3d")
    assert "come back by themselves on Saturday, March 7, 2026 at 11:50 AM." in said, said
    # A date named over SMS is in GSM-7's letters as the words around it: "sábado" made the
    # whole reply UCS-2 (GSM-7 has "é", not "á").
    await _patient(admin_conn, org, "+14155550196", "es")
    said = await sms_chat(web, fake_twilio, "+14155550196")("/pausa hasta el 14/3")
    assert "Se reanudaran solos al empezar el sabado, 14 de marzo de 2026." in said, said


async def test_a_reminder_waiting_keeps_its_answers(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """With a reminder waiting, "snooze 30" (a number in it) is that reminder's Snooze, not a
    command; "pause for 3 days" pauses and names the reminder, still open to its answers."""
    number = "+14155550194"
    patient = await _patient(admin_conn, org, number, "en")
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    dose = await _reminder(admin_conn, patient["id"], schedule, chat_clock)
    assert await worker(db, senders, chat_clock).run_once() == 1
    say = sms_chat(web, fake_twilio, number)
    status = "select status from dose_events where id = $1"
    said = await say("pause for 3 days")
    done, _, waiting = said.rpartition("\n\n")
    assert done.startswith("All reminders are paused."), said
    assert waiting.startswith("Also waiting for your answer: your "), said
    # Its Snooze is not offered: a pause refuses it (it was, and was then refused).
    assert waiting.endswith(" dose. Reply Taken or Skip."), said
    assert await admin_conn.fetchval(status, dose) == "due"
    assert await admin_conn.fetchval(PAUSED, patient["id"]) is True
    assert "taken" in (await say("taken")).lower()
    assert await admin_conn.fetchval(status, dose) == "taken"


async def test_a_dialog_question_takes_the_words_first(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """In the middle of /add the phrase is the answer the step reads (the medicine's name, as
    for the bare word), and nothing is paused."""
    number = "+14155550195"
    patient = await _patient(admin_conn, org, number, "en")
    say = sms_chat(web, fake_twilio, number)
    assert "medicine" in (await say("/add")).lower()
    assert "dose" in (await say("pause for 3 days")).lower()
    assert await admin_conn.fetchval(PAUSED, patient["id"]) is False


async def test_a_menu_that_reads_no_words_runs_the_command(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """Under the /meds list (options only), "pause for 3 days" was "Sorry, I didn't understand
    that" and the menu closed, nothing paused: now it pauses, as "/pause 3 days" there does. The
    menu's own words stay its: "pause" over two medicines ("Pause Metformin", "Pause Aspirin")
    pauses neither nor everything, and "pause metformin" pauses that one."""
    number = "+14155550197"
    patient = await _patient(admin_conn, org, number, "en")
    medication, _ = await factories.create_medication(admin_conn, patient["id"])
    await factories.create_medication(admin_conn, patient["id"], name="Aspirin")
    say = sms_chat(web, fake_twilio, number)
    assert "Pause Aspirin" in await say("/meds")
    said = await say("Pause for 3 days")
    assert said.startswith("All reminders are paused."), said
    assert await admin_conn.fetchval(PAUSED, patient["id"]) is True
    assert (await say("resume")).startswith("Reminders are back on")
    await say("/meds")
    assert not (await say("pause")).startswith("All reminders")
    assert await admin_conn.fetchval(PAUSED, patient["id"]) is False
    await say("/meds")
    assert "Metformin" in await say("pause metformin")
    # In Spanish too: "pausa" under "Pausar Metformin", "Pausar Aspirin" is the list's word.
    await admin_conn.execute("update patients set locale = 'es' where id = $1", patient["id"])
    assert "Pausar Aspirin" in await say("/meds")
    assert not (await say("pausa")).startswith("Todos los recordatorios")
    assert await admin_conn.fetchval(PAUSED, patient["id"]) is False
    status = "select status from medications where id = $1"
    assert await admin_conn.fetchval(status, medication["id"]) == "paused"
    assert await admin_conn.fetchval(PAUSED, patient["id"]) is False
