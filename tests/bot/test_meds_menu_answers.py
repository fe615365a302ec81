"""The /meds list's answers: what is not one of its options, and "pause" or "resume" typed there.

A reply that was none of the list's options closed it ("Sorry, I didn't understand that"), and
the patient's next try ("3") was "Nothing is waiting for an answer". A bare "pause" did what the
list's state made of it: the one medicine whose option started with Pause, or every reminder when
none did. Now the list stays, with its options again, as other menus do, and "pause" asks
whether one medicine or every reminder is meant (bot.dialogs.medicine_pause).
"""

from __future__ import annotations

import asyncpg

from tests.bot.conftest import Bot
from tests.bot.helpers import dose_events, registered_patient, remind
from tests.factories import create_medication

_STATE = """select m.status, p.reminders_paused from medications m
             join patients p on p.id = m.patient_id where m.id = $1"""


async def test_sms_list_stays_after_a_mistyped_answer_and_pause_asks_which(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    number = "+14155550140"
    patient = await registered_patient(bot, admin_conn, number, channel="sms")
    medication, _ = await create_medication(admin_conn, patient["id"], name="Metformin")

    async def say(text: str) -> str:
        return "\n".join(m.body or "" for m in await bot.sms(number, text))

    await say("/meds")
    for typo, said_first in (("hello", "Hello, Ana!"), ("4", "Please pick one of the options.")):
        said = await say(typo)  # a greeting is greeted, not told to pick (the list again)
        assert said.startswith(said_first), said
        assert "1 Pause Metformin\n2 Edit times of Metformin\n3 Delete Metformin" in said, said
    assert (await say("3")).startswith("Delete Metformin and its reminders?")  # still the list
    assert (await say("No")).startswith("OK, cancelled")
    # Looked at and done with: "thanks" closes the list.
    await say("/meds")
    assert await say("Thanks!") == "You're welcome!"
    assert (await say("3")).startswith("Nothing is waiting")
    await say("/meds")
    await say("3")
    assert (await say("No")).startswith("OK, cancelled")

    # One medicine: "pause" could be it or every reminder. Asked, nothing paused yet.
    await say("/meds")
    said = await say("pause")
    assert said == "Pause one medicine, or all your reminders?\n\n1 Metformin only\n2 All reminders"
    assert tuple(await admin_conn.fetchrow(_STATE, medication["id"])) == ("active", False)
    assert (await say("hmm")).startswith("Please pick one of the options.")
    assert (await say("2")).startswith("All reminders are paused.")
    assert tuple(await admin_conn.fetchrow(_STATE, medication["id"])) == ("active", True)
    # "resume" with only everything paused: one thing it can mean, done.
    await say("/meds")
    assert (await say("resume")).startswith("Reminders are back on")
    await say("/meds")
    await say("PAUSA")
    assert (await say("1")).startswith("Paused Metformin")
    assert tuple(await admin_conn.fetchrow(_STATE, medication["id"])) == ("paused", False)
    # "pause metformin" is its option: done at once.
    await say("/meds")
    assert (await say("resume metformin")).startswith("Resumed Metformin")

    # A reminder comes over the open list and is answered "1"; "ya" (taken, said again) is no
    # answer to the list: it showed the list again, and the next "1" paused Metformin.
    await say("/meds")
    (dose,) = await dose_events(admin_conn, patient["id"], [bot.clock.now])
    await remind(bot, admin_conn, patient["id"], dose_id=dose)
    assert (await say("1")).startswith("Taken")
    assert await say("ya") == "There is no dose waiting for an answer right now."
    said = await say("1")
    assert said.startswith("Here is where we were, before your answer. Choose again:"), said
    paused = "select count(*) from medications where status = 'paused'"
    assert await admin_conn.fetchval(paused) == 0
    # Left open for a day, the list's "1" is no longer what the patient last read.
    bot.clock.advance(hours=13)
    said = await say("1")
    assert said.startswith("That menu is from a while ago. Here it is again"), said
    assert await admin_conn.fetchval(paused) == 0
    assert (await say("1")).startswith("Paused Metformin")  # shown again: now it is the answer


async def test_telegram_spanish_list_and_delete_question_ask_what_pausa_means(
    bot: Bot, admin_conn: asyncpg.Connection
) -> None:
    chat = bot.new_chat()
    patient = await registered_patient(bot, admin_conn, chat, locale="es")
    medication, _ = await create_medication(admin_conn, patient["id"], name="Metformin")
    await bot.send(chat, "/meds")
    await bot.send(chat, "vale")
    assert bot.last_text(chat) == "Elige una de las opciones."
    assert bot.labels(chat) == [
        "Pausar Metformin",
        "Cambiar horas de Metformin",
        "Borrar Metformin",
    ]
    await bot.send(chat, "pausa")
    assert bot.last_text(chat) == "¿Pauso un medicamento, o todos tus recordatorios?"
    assert bot.labels(chat) == ["Solo Metformin", "Todos los recordatorios"]
    await bot.press(chat, "Solo Metformin")
    assert tuple(await admin_conn.fetchrow(_STATE, medication["id"])) == ("paused", False)
    # Asked to delete it, "pausa" is not yes or no: which pause, again.
    await bot.send(chat, "/meds")
    await bot.press(chat, "Borrar Metformin")
    await bot.send(chat, "reanudar")  # the one thing paused: Metformin
    assert bot.last_text(chat) == "Metformin reanudado."
    await bot.send(chat, "/meds")
    await bot.press(chat, "Borrar Metformin")
    await bot.send(chat, "pausa")
    assert bot.labels(chat) == ["Solo Metformin", "Todos los recordatorios"]
    await bot.press(chat, "Todos los recordatorios")
    assert bot.last_text(chat).startswith("Todos los recordatorios están en pausa.")
    assert tuple(await admin_conn.fetchrow(_STATE, medication["id"])) == ("active", True)
    # Outside /meds, a medicine named after the word is that medicine (it was "send /meds and
    # pick it there"); a name the patient has none of still gets that hint.
    await bot.send(chat, "/resume")
    await bot.send(chat, "pausar la metformin")
    assert bot.last_text(chat).startswith("Metformin en pausa")
    await bot.send(chat, "reanudar el ibuprofeno")
    assert bot.last_text(chat).startswith("Para reanudar un medicamento, envía /meds")
    # "Parar" is no opt-out on Telegram (/stop is): it was "no hay nada esperando respuesta".
    await bot.send(chat, "PARAR")
    assert bot.last_text(chat).startswith("Para no recibir ningún mensaje mío, envía /stop.")
