"""A command typed without its slash over SMS ("pause", "Today") is named back with the slash.

On a phone's SMS app a patient types "pause" as they would say it; the bot answered "Nothing is
waiting for an answer right now", and the reminders went on. The reply now says which command
does it; nothing runs without the slash (a bare word may be an answer, and "delete_me" or "add"
should not start on a guess).
"""

from __future__ import annotations

import asyncpg
import httpx

from core.db import Database
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import Clock, twilio_inbound, worker
from tests.web.test_answer_router import _reminder

NUMBER = "+14155550178"


async def test_pause_and_today_without_slash_name_their_commands(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """English and Spanish patients on SMS, nothing waiting: the bare command word gets the
    command back; a word that is no command still gets "nothing is waiting"."""
    english = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": NUMBER}, locale="en"
    )
    spanish_number = "+14155550179"
    await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": spanish_number}, locale="es"
    )

    async def say(number: str, text: str) -> str:
        before = len(fake_twilio.messages)
        await twilio_inbound(web, number, text)
        return "\n".join(m.body or "" for m in fake_twilio.messages[before:] if m.to == number)

    assert await say(NUMBER, "pause") == "To do that, send /pause (with the slash)."
    assert await say(NUMBER, " Today ") == "To do that, send /today (with the slash)."
    assert await say(spanish_number, "resume") == "Para eso, envía /resume (con la barra)."
    assert (await say(NUMBER, "banana")).startswith("Nothing is waiting for an answer")
    paused = "select reminders_paused from patients where id = $1"
    assert await admin_conn.fetchval(paused, english["id"]) is False
    assert (await say(NUMBER, "/pause")).startswith("All reminders are paused.")
    assert await admin_conn.fetchval(paused, english["id"]) is True


async def test_a_command_word_while_a_reminder_waits_names_both(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    """With a reminder waiting, "pause" got "Sorry, I didn't understand that. You can answer
    your dose": the command is named first now, and the reminder after it, still open."""
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
    hint, _, waiting = replies[0].partition("\n\n")
    assert hint == "To do that, send /pause (with the slash)."
    assert waiting.startswith("Also waiting for your answer: your ")
    assert waiting.endswith(" dose. Reply Taken, Snooze 15 min or Skip.")
    status = "select status from dose_events where id = $1"
    assert await admin_conn.fetchval(status, dose) == "due"
