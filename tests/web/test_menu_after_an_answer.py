"""Where a typed "1" goes after a reminder was answered while a dialog menu (/meds) was open.

Both found by hand in medremind dev's console, both paused Metformin (its reminders stopped):

- A reminder named again ("Also waiting for your answer") is the newest question asked: a "1"
  then answers it, not the /meds menu opened before it (the menu was older than that reminder's
  question by the time it was first asked but not by what the patient had last been told).
- A menu passed over by a reminder the patient answered is shown again ("Here is where we
  were") before a typed choice acts on it (H2, session 29): the second "1" of a double tap, or
  one meant for the reminder again, went to the menu, no longer the last thing asked.

Over the web process (signed Twilio webhooks) and the worker's dispatcher (loopback Twilio).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time, timedelta
from uuid import UUID

import asyncpg
import httpx

from core.db import Database
from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, sms_chat, worker

NUMBER = "+14155550188"


@dataclass
class Chat:
    """An SMS patient of the clinic with Metformin and Lisinopril, each once a day."""

    conn: asyncpg.Connection
    say: Callable[[str], Awaitable[str]]
    medicines: dict[str, UUID]

    async def dose_status(self, name: str) -> str:
        """The status of the medicine's first dose."""
        return await self.conn.fetchval(
            "select status from dose_events where medication_id = $1 order by due_at limit 1",
            self.medicines[name],
        )

    async def medicine_statuses(self) -> set[str]:
        """The statuses of the patient's medicines (a pause shows as 'paused')."""
        rows = await self.conn.fetch(
            "select status from medications where id = any($1::uuid[])",
            list(self.medicines.values()),
        )
        return {r["status"] for r in rows}


async def _chat(
    web: httpx.AsyncClient,
    conn: asyncpg.Connection,
    twilio: FakeTwilio,
    org: asyncpg.Record,
    metformin: time,
    lisinopril: time,
) -> Chat:
    """The patient, their medicines at these times planned from START, and their SMS chat."""
    patient = await factories.create_patient(conn, org["id"], contacts={"sms": NUMBER})
    medicines = {}
    for name, at in (("Metformin", metformin), ("Lisinopril", lisinopril)):
        medication, _ = await factories.create_medication(
            conn, patient["id"], name=name, times=(at,)
        )
        medicines[name] = medication["id"]
    await replan_patient(conn, patient["id"], START)
    return Chat(conn, sms_chat(web, twilio, NUMBER), medicines)


async def test_a_1_after_also_waiting_answers_that_reminder_not_an_older_menu(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    chat = await _chat(web, admin_conn, fake_twilio, org, time(12, 0), time(12, 5))

    chat_clock.now = START + timedelta(minutes=10)  # 12:00: Metformin's reminder
    assert await worker(db, senders, chat_clock).run_once() == 1
    chat_clock.now += timedelta(minutes=1)
    menu = await chat.say("/meds")  # a numbered menu, asked after Metformin's reminder
    assert re.search(r"^1 ", menu, re.MULTILINE), menu
    chat_clock.now += timedelta(minutes=4)  # 12:05: Lisinopril's reminder, newer than the menu
    assert await worker(db, senders, chat_clock).run_once() == 1

    first = await chat.say("1")
    assert await chat.dose_status("Lisinopril") == "taken"
    assert "Also waiting for your answer: your 12:00 PM dose of medicine 1." in first
    second = await chat.say("1")
    # The reminder just named again takes it: Metformin's dose, not the /meds menu's first item.
    assert await chat.dose_status("Metformin") == "taken", second
    assert "Taken at 12:05 PM: your 12:00 PM dose of medicine 1." in second
    assert await chat.medicine_statuses() == {"active"}


async def test_a_1_after_answering_a_reminder_shows_the_older_menu_again_first(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    chat = await _chat(web, admin_conn, fake_twilio, org, time(12, 5), time(20, 0))

    chat_clock.now = START + timedelta(minutes=11)
    menu = await chat.say("/meds")  # a numbered menu
    assert re.search(r"^1 ", menu, re.MULTILINE), menu
    chat_clock.now = START + timedelta(minutes=15)  # 12:05: Metformin's reminder, after it
    assert await worker(db, senders, chat_clock).run_once() == 1

    taken = await chat.say("1")  # the newest question: the reminder
    assert await chat.dose_status("Metformin") == "taken", taken
    again = await chat.say("1")
    # Not acted on: the menu, shown again, so that the patient sees where a number goes now.
    assert await chat.medicine_statuses() == {"active"}, again
    assert "Here is where we were" in again, again

    assert re.search(r"^1 ", again, re.MULTILINE), again
    chosen = await chat.say("1")  # now the menu's, as shown
    assert "Here is where we were" not in chosen, chosen
    assert "Paused Metformin" in chosen, chosen
