"""A dialog menu passed over by a reminder the patient answered is shown again before a typed
choice acts on it.

Found by hand in medremind dev's console (H2, session 29): a patient opened /meds, a reminder
came and was answered "1" (Taken); a second "1" (a double tap, or a "1" meant for the reminder
again) went to the /meds menu, still open above the reminder but no longer the last thing the
patient had been asked, and paused a medicine: its reminders stopped. Now that "1" shows the menu
again ("Here is where we were"), and only a choice typed after it acts.
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

NUMBER = "+14155550189"


async def test_a_1_after_answering_a_reminder_shows_the_older_menu_again_first(
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
    for name, at in (("Metformin", time(12, 5)), ("Lisinopril", time(20, 0))):
        medication, _ = await factories.create_medication(
            admin_conn, patient["id"], name=name, times=(at,)
        )
        medicines[name] = medication["id"]
    await replan_patient(admin_conn, patient["id"], START)
    say = sms_chat(web, fake_twilio, NUMBER)

    async def medicine_statuses() -> set[str]:
        rows = await admin_conn.fetch(
            "select status from medications where patient_id = $1", patient["id"]
        )
        return {r["status"] for r in rows}

    chat_clock.now = START + timedelta(minutes=11)
    menu = await say("/meds")  # a numbered menu
    assert re.search(r"^1 ", menu, re.MULTILINE), menu
    chat_clock.now = START + timedelta(minutes=15)  # 12:05: Metformin's reminder, after it
    assert await worker(db, senders, chat_clock).run_once() == 1

    taken = await say("1")  # the newest question: the reminder
    assert (
        await admin_conn.fetchval(
            "select status from dose_events where medication_id = $1 order by due_at limit 1",
            medicines["Metformin"],
        )
        == "taken"
    ), taken
    again = await say("1")
    # Not acted on: the menu, shown again, so that the patient sees where a number goes now.
    assert await medicine_statuses() == {"active"}, again
    assert "Here is where we were" in again, again

    assert re.search(r"^1 ", again, re.MULTILINE), again
    chosen = await say("1")  # now the menu's, as shown
    assert "Here is where we were" not in chosen, chosen
    assert "Paused Metformin" in chosen, chosen
