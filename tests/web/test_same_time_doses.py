"""Two medicines due at the same time, over the web process and the worker's dispatcher.

The planner plans each medicine's reminders; the dispatcher sends them to the loopback Twilio and
Telegram; the patient answers with typed numbers (SMS) or buttons (Telegram) through the signed
webhooks. Without the patient's opt-in to names, each reminder and each answer's confirmation
says which dose by the medicine's number in /meds ("of medicine 2"), never its name; with it, by
the name. A patient with one medicine reads what they always did.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from uuid import UUID

import asyncpg
import httpx

from core.answer_buttons import dose_data
from core.db import Database
from scheduler.planner import replan_patient
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import (
    START,
    Clock,
    plain,
    sms_chat,
    telegram_press,
    telegram_text,
    worker,
)

NUMBER = "+14155550177"
NOON = time(12, 0)  # START is 11:50 UTC; the patients live in UTC
SECOND = "Hi Test Patient. Time for your 12:00 PM dose of medicine 2."


async def _two_medicines(conn: asyncpg.Connection, patient_id: UUID) -> dict[str, UUID]:
    """Metformin (medicine 1 in /meds) and Lisinopril (2), both at noon; planned."""
    ids = {}
    for name in ("Metformin", "Lisinopril"):
        medication, _ = await factories.create_medication(
            conn, patient_id, name=name, times=(NOON,)
        )
        ids[name] = medication["id"]
    await replan_patient(conn, patient_id, START)
    return ids


async def _dose_status(conn: asyncpg.Connection, medication_id: UUID) -> str:
    """The status of the medicine's dose due at noon today (tomorrow's is planned too)."""
    return await conn.fetchval(
        "select status from dose_events where medication_id = $1 and due_at = $2",
        medication_id,
        START + timedelta(minutes=10),
    )


async def test_sms_reminders_and_typed_answers_say_which_medicine(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER})
    medicines = await _two_medicines(admin_conn, patient["id"])
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 2
    reminders = sorted(plain(m.body) for m in fake_twilio.messages if m.to == NUMBER)
    assert [r.split("\n")[0] for r in reminders] == [
        "Hi Test Patient. Time for your 12:00 PM dose of medicine 1.",
        "Hi Test Patient. Time for your 12:00 PM dose of medicine 2.",
    ]
    # The lock screen shows no name: the patient did not opt in.
    assert not any("Metformin" in r or "Lisinopril" in r for r in reminders)

    say = sms_chat(web, fake_twilio, NUMBER)

    # What cannot be read as an answer is told which dose it could answer.
    unclear = await say("which one?")
    assert re.search(r"You can answer your 12:00 PM dose of medicine \d:\n1 Taken", unclear)
    assert "(1 more waiting after this one.)" in unclear
    # "1" answers the newest open question; the answer says which dose it recorded, and "1"
    # again answers the other one.
    first = await say("1")
    found = re.search(r"Taken at 12:00 PM: your 12:00 PM dose of medicine (\d)\. Well done!", first)
    assert found is not None, first
    number = int(found.group(1))
    answered, other = ("Metformin", "Lisinopril") if number == 1 else ("Lisinopril", "Metformin")
    assert await _dose_status(admin_conn, medicines[answered]) == "taken"
    assert await _dose_status(admin_conn, medicines[other]) == "due"
    # The patient is told the other dose still waits (they may have meant "1" for both).
    assert f"Also waiting for your answer: your 12:00 PM dose of medicine {3 - number}." in first
    last = await say("1")
    assert f"dose of medicine {3 - number}. Well done!" in last
    assert "Also waiting" not in last
    assert await _dose_status(admin_conn, medicines[other]) == "taken"
    # /meds numbers them as the reminders did.
    listed = await say("/meds")
    assert "1. Metformin" in listed and "2. Lisinopril" in listed


async def test_telegram_buttons_answer_their_own_dose_and_say_which(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    org: asyncpg.Record,
) -> None:
    chat = 7_100_200
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": str(chat)}
    )
    medicines = await _two_medicines(admin_conn, patient["id"])
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 2
    sent = {plain(c.text): c.buttons() for c in fake_telegram.sent_messages if c.chat_id == chat}
    assert set(sent) == {
        "Hi Test Patient. Time for your 12:00 PM dose of medicine 1.",
        "Hi Test Patient. Time for your 12:00 PM dose of medicine 2.",
    }
    # Skip pressed on medicine 2's reminder: that dose, and the edit says so.
    skip = [data for row in sent[SECOND] for _, data in row]
    before = len(fake_telegram.calls)
    await telegram_press(web, chat, next(d for d in skip if d.endswith(":k")))
    edits = [plain(c.text) for c in fake_telegram.calls[before:]]
    assert "Skipped: your 12:00 PM dose of medicine 2. I've noted it." in edits
    assert await _dose_status(admin_conn, medicines["Lisinopril"]) == "skipped"
    assert await _dose_status(admin_conn, medicines["Metformin"]) == "due"
    # Taken on medicine 1's (the one-statement fast path), then again: already recorded.
    dose = await admin_conn.fetchval(
        "select id from dose_events where medication_id = $1 and due_at = $2",
        medicines["Metformin"],
        chat_clock.now,
    )
    before = len(fake_telegram.calls)
    await telegram_press(web, chat, dose_data(dose, "t"))
    await telegram_press(web, chat, dose_data(dose, "t"))
    edits = [plain(c.text) for c in fake_telegram.calls[before:]]
    assert "Taken at 12:00 PM: your 12:00 PM dose of medicine 1. Well done!" in edits
    assert "This dose was already recorded as taken: your 12:00 PM dose of medicine 1." in edits


async def test_names_where_the_patient_chose_them_and_the_number_in_spanish(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    org: asyncpg.Record,
) -> None:
    named_chat, spanish_chat = 7_100_301, 7_100_302
    named = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"telegram": str(named_chat)},
        name_medicine_in_reminders=True,
    )
    spanish = await factories.create_patient(
        admin_conn, org["id"], contacts={"telegram": str(spanish_chat)}, locale="es"
    )
    await _two_medicines(admin_conn, named["id"])
    await _two_medicines(admin_conn, spanish["id"])
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 4
    texts: dict[object, set[str]] = {c.chat_id: set() for c in fake_telegram.sent_messages}
    for call in fake_telegram.sent_messages:
        texts[call.chat_id].add(plain(call.text))
    assert texts[named_chat] == {
        "Hi Test Patient. Time for your 12:00 PM dose: Metformin, 500 mg.",
        "Hi Test Patient. Time for your 12:00 PM dose: Lisinopril, 500 mg.",
    }
    assert texts[spanish_chat] == {
        "Hola, Test Patient. Es la hora de tu dosis de las 12:00 del medicamento 1.",
        "Hola, Test Patient. Es la hora de tu dosis de las 12:00 del medicamento 2.",
    }
    # A typed "Taken" goes to the newest question; its answer names the medicine it recorded.
    before = len(fake_telegram.calls)
    await telegram_text(web, named_chat, "Taken")
    told = "\n".join(plain(c.text) for c in fake_telegram.calls[before:])
    assert re.search(r"Taken at 12:00 PM: your 12:00 PM dose of (Metformin|Lisinopril)\.", told)
    before = len(fake_telegram.calls)
    await telegram_text(web, spanish_chat, "Tomada")
    told = "\n".join(plain(c.text) for c in fake_telegram.calls[before:])
    assert re.search(r"Tomada a las 12:00: tu dosis de las 12:00 del medicamento [12]\.", told)


async def test_one_medicine_reads_as_before_and_a_second_numbers_the_planned_ones(
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    org: asyncpg.Record,
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"], contacts={"sms": NUMBER})
    first, _ = await factories.create_medication(
        admin_conn, patient["id"], name="Metformin", times=(NOON,)
    )
    await replan_patient(admin_conn, patient["id"], START)
    payload = "select payload from scheduled_messages where payload->>'medication_id' = $1"
    assert "medicine_number" not in await admin_conn.fetchval(payload, str(first["id"]))
    # A second medicine at the same time: the first's planned reminder is numbered too.
    second, _ = await factories.create_medication(
        admin_conn, patient["id"], name="Lisinopril", times=(NOON,)
    )
    assert (await admin_conn.fetchval(payload, str(first["id"])))["medicine_number"] == 1
    await replan_patient(admin_conn, patient["id"], START)
    # Paused, the second sends nothing: the first reads as a single medicine's again.
    await admin_conn.execute("update medications set status = 'paused' where id = $1", second["id"])
    await replan_patient(admin_conn, patient["id"], START)
    chat_clock.now = START + timedelta(minutes=10)
    assert await worker(db, senders, chat_clock).run_once() == 1
    body = plain(fake_twilio.messages[-1].body)
    assert body.split("\n")[0] == "Hi Test Patient. Time for your 12:00 PM dose."
