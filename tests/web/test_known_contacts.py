"""Issue 14, item 1: inbound from a known contact point reaches its patient, with no /start.

Over the web process: a clinic creates an SMS patient through ``POST /api/v1/patients`` and imports
a medicine (FHIR ``MedicationRequest``, planned at once); the worker's dispatcher sends the SMS
reminders to the loopback Twilio; the patient's signed ``/twilio/inbound`` replies "1" and
"Taken" record the doses. HELP names the clinic and how to reach it. Telegram has /stop and /start.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from core.db import Database
from tests.fakes.fake_telegram import FakeTelegram
from tests.fakes.fake_twilio import FakeTwilio
from tests.web.chat import START, Clock, telegram_text, twilio_inbound, worker

NUMBER = "+14155550123"


async def sms_from_patient(web: httpx.AsyncClient, body: str) -> None:
    await twilio_inbound(web, NUMBER, body)


async def clinic_sms_patient(web: httpx.AsyncClient, auth: dict, times: list[str]) -> str:
    """A consented SMS patient created through the API, with a medicine imported over FHIR."""
    created = await web.post(
        "/api/v1/patients",
        json={
            "display_name": "Rosa",
            "phone": NUMBER,
            "consent": True,
            "timezone": "UTC",
            "channel_order": ["sms"],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    resource = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {"text": "Lisinopril 10 mg"},
        "dosageInstruction": [
            {"timing": {"repeat": {"frequency": len(times), "period": 1, "periodUnit": "d",
                                   "timeOfDay": times}}}
        ],
    }  # fmt: skip
    imported = await web.post("/api/v1/fhir/MedicationRequest", json=resource, headers=auth)
    assert imported.status_code == 201, imported.text
    return str(patient_id)


def replies_to(twilio: FakeTwilio, number: str, since: int) -> str:
    return "\n".join(m.body or "" for m in twilio.messages[since:] if m.to == number)


async def test_clinic_created_sms_patient_answers_reminders_without_start(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_twilio: FakeTwilio,
    auth: dict,
    org: asyncpg.Record,
) -> None:
    await admin_conn.execute(
        "update organizations set contact_phone = '+4930123456', contact_email = 'care@north.test'"
        " where id = $1",
        org["id"],
    )
    patient_id = await clinic_sms_patient(web, auth, ["12:00:00", "12:30:00"])
    dispatcher = worker(db, senders, chat_clock)

    chat_clock.now = START + timedelta(minutes=10)  # 12:00: the first reminder
    assert await dispatcher.run_once() == 1
    reminder = fake_twilio.messages[-1]
    assert reminder.to == NUMBER and reminder.body is not None
    assert reminder.body.endswith("1 Taken\n2 Snooze 15 min\n3 Skip")

    before = len(fake_twilio.messages)
    await sms_from_patient(web, "1")
    assert "Taken at" in replies_to(fake_twilio, NUMBER, before)
    doses = await admin_conn.fetch(
        "select status, answered_channel from dose_events where patient_id = $1"
        " and due_at < $2 order by due_at",
        patient_id,
        START + timedelta(hours=1),
    )
    assert [(d["status"], d["answered_channel"]) for d in doses] == [
        ("taken", "sms"),
        ("due", None),
    ]
    # The dose's follow-ups were withdrawn with the answer: nothing more goes out for it.
    chat_clock.now = START + timedelta(minutes=25)
    assert await dispatcher.run_once() == 0

    chat_clock.now = START + timedelta(minutes=40)  # 12:30: the second reminder, answered by word
    assert await dispatcher.run_once() == 1
    before = len(fake_twilio.messages)
    await sms_from_patient(web, "Taken")
    assert "Taken at" in replies_to(fake_twilio, NUMBER, before)
    statuses = await admin_conn.fetch(
        "select status from dose_events where patient_id = $1 and due_at < $2 order by due_at",
        patient_id,
        START + timedelta(hours=1),
    )
    assert [s["status"] for s in statuses] == ["taken", "taken"]

    # HELP names the clinic and both ways to reach it.
    before = len(fake_twilio.messages)
    await sms_from_patient(web, "HELP")
    help_text = replies_to(fake_twilio, NUMBER, before)
    assert "North Clinic" in help_text and "+4930123456" in help_text
    assert "care@north.test" in help_text
    assert "/start" not in help_text


async def test_telegram_stop_and_start(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    org: asyncpg.Record,
) -> None:
    from tests.factories import create_patient

    chat = 555_140_001
    await create_patient(admin_conn, org["id"], contacts={"telegram": str(chat)})

    async def say(text: str) -> list[str]:
        before = len(fake_telegram.sent_messages)
        await telegram_text(web, chat, text)
        return [c.text or "" for c in fake_telegram.sent_messages[before:]]

    assert "/cancel" in (await say("/help"))[0] and "/stop" in (await say("/help"))[0]
    [stopped] = await say("/stop")
    assert "not get any more messages" in stopped and "/start" in stopped
    assert await admin_conn.fetchval("select opted_out_at from contact_points") is not None
    # Opted out: nothing but how to come back.
    assert await say("/today") == ["Messages are stopped here. Send /start to get them again."]
    [back] = await say("/start")
    assert "subscribed again" in back
    assert await admin_conn.fetchval("select opted_out_at from contact_points") is None
    [welcome] = await say("/start")
    assert "Welcome back" in welcome
