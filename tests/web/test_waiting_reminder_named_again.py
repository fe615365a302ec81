"""A reminder named again ("Also waiting for your answer") is the newest question asked: a typed
"1" then answers it, not a dialog menu the patient opened before it.

Found by hand in medremind dev's console: a patient opened /meds, two reminders came and were
answered "1"; the bot said "Also waiting for your answer: your 12:40 dose of medicine 2. Reply
Taken, ..."; the next "1" went to the /meds menu, older than that reminder's question by the
time it was first asked but not by what the patient had last been told, and paused Metformin.
Over the web process (signed Twilio webhooks) and the worker's dispatcher (loopback Twilio).
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import asyncpg
import httpx

from core.db import Database
from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, sms_chat, worker

NUMBER = "+14155550188"


async def test_a_1_after_also_waiting_answers_that_reminder_not_an_older_menu(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER})
    medicines = {}
    for name, at in (("Metformin", time(12, 0)), ("Lisinopril", time(12, 5))):
        medication, _ = await factories.create_medication(
            admin_conn, patient["id"], name=name, times=(at,)
        )
        medicines[name] = medication["id"]
    await replan_patient(admin_conn, patient["id"], START)

    say = sms_chat(web, fake_twilio, NUMBER)

    async def status(name: str) -> str:
        return await admin_conn.fetchval(
            "select status from dose_events where medication_id = $1 order by due_at limit 1",
            medicines[name],
        )

    chat_clock.now = START + timedelta(minutes=10)  # 12:00: Metformin's reminder
    assert await worker(db, senders, chat_clock).run_once() == 1
    chat_clock.now += timedelta(minutes=1)
    menu = await say("/meds")  # a numbered menu, asked after Metformin's reminder
    assert re.search(r"^1 ", menu, re.MULTILINE), menu
    chat_clock.now += timedelta(minutes=4)  # 12:05: Lisinopril's reminder, newer than the menu
    assert await worker(db, senders, chat_clock).run_once() == 1

    first = await say("1")
    assert await status("Lisinopril") == "taken"
    assert "Also waiting for your answer: your 12:00 PM dose of medicine 1." in first
    second = await say("1")
    # The reminder just named again takes it: Metformin's dose, not the /meds menu's first item.
    assert await status("Metformin") == "taken", second
    assert "Taken at 12:05 PM: your 12:00 PM dose of medicine 1." in second
    assert (
        await admin_conn.fetchval(
            "select status from medications where id = $1", medicines["Metformin"]
        )
        == "active"
    )
