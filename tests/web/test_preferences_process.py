"""A per-category opt-out respected end to end (issue 17), over real ``medremind web`` and
``medremind worker`` processes.

A Telegram patient opts out of appointment messages in /settings (buttons, through the web
process's webhook and the loopback Bot API). The clinic then books an appointment through the
API: the planner plans neither its confirmation nor its reminders. An appointment reminder that
another path inserts anyway is withheld at send time by the worker; the patient's medication
reminder (another category) is still delivered. The clinic, acting as the dashboard does, cannot
switch the patient back on.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import asyncpg
import httpx
import pytest

from tests import factories
from tests.fakes.fake_telegram import (
    FakeTelegram,
    TelegramCall,
    callback_update,
    text_update,
)
from tests.integration.clinician import as_clinician
from tests.web.conftest import WEBHOOK_SECRET
from tests.web.processes import StartWeb, clinic_key, kill, start_telegram_worker, wait_until

CHAT = 555200417
SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}


async def _reply(fake: FakeTelegram, starts: str, seen: int, timeout: float = 60) -> TelegramCall:
    """The first message to the patient after the ``seen`` first whose text starts so."""
    deadline = time.monotonic() + timeout
    while True:
        mine = [m for m in fake.sent_messages if str(m.chat_id) == str(CHAT)]
        for message in mine[seen:]:
            if (message.text or "").startswith(starts):
                return message
        assert time.monotonic() < deadline, [m.text for m in mine]
        await asyncio.sleep(0.1)


def _data(message: TelegramCall, label: str) -> str:
    return next(d for row in message.buttons() for text, d in row if text == label)


async def test_opt_out_of_appointments_end_to_end(
    db,
    admin_conn: asyncpg.Connection,
    web_process: StartWeb,
    fake_telegram: FakeTelegram,
    database_url,
    tmp_path,
):
    org, key = await clinic_key(db, admin_conn, "Harbour Clinic")
    clinician = await factories.create_clinician(admin_conn, org["id"])
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"telegram": str(CHAT)},
        quiet_start=clock_time(0),
        quiet_end=clock_time(0),
    )
    _, base = await web_process()
    worker = start_telegram_worker(database_url, tmp_path, fake_telegram)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as web:

            async def say(update: dict[str, Any]) -> int:
                seen = len([m for m in fake_telegram.sent_messages if str(m.chat_id) == str(CHAT)])
                response = await web.post("/telegram/webhook", json=update, headers=SECRET)
                assert response.status_code == 200
                return seen

            seen = await say(text_update(CHAT, "/settings"))
            menu = await _reply(fake_telegram, "Settings:", seen)
            assert "Messages: Medication reminders: on, Appointment reminders: on" in (
                menu.text or ""
            )
            seen = await say(callback_update(CHAT, _data(menu, "Which messages")))
            which = await _reply(fake_telegram, "Which messages do you want to change?", seen)
            seen = await say(callback_update(CHAT, _data(which, "Appointment reminders")))
            choice = await _reply(fake_telegram, "Appointment reminders: now on.", seen)
            seen = await say(callback_update(CHAT, _data(choice, "Stop them")))
            await _reply(fake_telegram, "Saved. Appointment reminders: off.", seen)

            # The clinic books an appointment: nothing is planned for it.
            # An hour ahead: its reminder's time (a minute before) is not past however long the
            # booking takes, so nothing planned is the preference's doing.
            starts_at = datetime.now(UTC) + timedelta(hours=1)
            booked = await web.post(
                "/api/v1/appointments",
                headers={"Authorization": f"Bearer {key}"},
                json={
                    "patient_id": str(patient["id"]),
                    "starts_at": starts_at.isoformat(),
                    "reminder_offsets": [1],
                },
            )
            assert booked.status_code == 201, booked.text
            appointment_id = booked.json()["id"]
        planned = await admin_conn.fetchval(
            "select count(*) from scheduled_messages where appointment_id = $1", appointment_id
        )
        assert planned == 0

        # Another path inserts a reminder anyway, and a medication reminder is due: the worker
        # withholds the first and delivers the second.
        stray = await factories.create_message(
            admin_conn,
            patient["id"],
            kind="appointment_reminder",
            message_content=None,
            appointment_id=appointment_id,
            payload={"appointment_id": appointment_id, "offset_minutes": 1},
        )
        _, schedule = await factories.create_medication(admin_conn, patient["id"])
        dose = await factories.create_dose_event(admin_conn, schedule, datetime.now(UTC))
        medication = await factories.create_message(
            admin_conn,
            patient["id"],
            kind="medication_reminder",
            message_content=None,
            dose_event_id=dose["id"],
        )

        async def done() -> bool:
            statuses = await admin_conn.fetch(
                "select id, status from scheduled_messages where id = any($1::uuid[])",
                [stray["id"], medication["id"]],
            )
            return all(r["status"] not in ("pending", "processing") for r in statuses)

        await wait_until(done, "both messages decided")
    finally:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
        kill(worker)

    stray_row = await admin_conn.fetchrow(
        "select status, last_error, sent_at from scheduled_messages where id = $1", stray["id"]
    )
    assert stray_row["status"] == "cancelled" and stray_row["sent_at"] is None
    assert stray_row["last_error"] == "opted out of this category of messages"
    assert await admin_conn.fetchval(
        "select status from scheduled_messages where id = $1", medication["id"]
    ) in ("sent", "delivered")
    texts = [m.text or "" for m in fake_telegram.sent_messages if str(m.chat_id) == str(CHAT)]
    assert not any(t.startswith("Reminder: you have an appointment") for t in texts)

    # The clinic cannot switch the patient back on, not even through the dashboard's role.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            await conn.execute(
                "update patient_preferences set patient_choice = 'in' where patient_id = $1",
                patient["id"],
            )
    assert await admin_conn.fetchval(
        "select public.patient_opted_out($1, 'appointments')", patient["id"]
    )
