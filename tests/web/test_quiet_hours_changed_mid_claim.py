"""A quiet window changed while a worker holds a claim of a message it will defer.

The claim reads the patient's window; the dispatcher judges quiet hours when the row leaves its
send queue, which at a rate limit's pace is up to a lease after the claim, and records the
deferral after that. A change of the window meanwhile re-times nothing in its own transaction
(the row is ``processing``, the claim's), and the planner's pass that took the change's note
before the record left the message at the old window's end: here a 22:00 message held for 08:00
although the patient's window became 23:00-07:00 at 22:01. Now each note is read by every pass
for two leases (migration 20260101015600), and the next pass releases the message.

The worker's dispatcher runs one send at a time, and the loopback Bot API holds the first send
(another patient's urgent message, claimed first), so the deferrable row waits in the queue,
claimed, while the window changes through the API and the planner passes.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.templating import TemplateRenderer
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planner import run_planner_tick
from tests import factories
from tests.web.chat import START
from tests.web.worker_day import ClinicDay, telegram_to

EVENING = START.replace(hour=22, minute=0)
TEXT = "Your lab results are in: call us when you can"
URGENT = "The clinic is closed tomorrow"
DEFERRED = "deferred to the end of quiet hours"


async def test_a_window_changed_between_the_claim_and_the_deferral(clinic: ClinicDay) -> None:
    conn, pool = clinic.conn, clinic.day.db.pool
    assert pool is not None
    first_chat, chat = 7_300_501, 7_300_502
    first = await factories.create_patient(
        conn, clinic.org["id"], timezone="UTC", contacts={"telegram": str(first_chat)}
    )
    patient = await factories.create_patient(
        conn,
        clinic.org["id"],
        timezone="UTC",
        contacts={"telegram": str(chat)},
        quiet_start=EVENING.time().replace(hour=21),
        quiet_end=EVENING.time().replace(hour=8),
    )
    for patient_id, text, fields in (
        (first["id"], URGENT, {"urgent": True, "priority": 0}),
        (patient["id"], TEXT, {}),
    ):
        await factories.create_message(
            conn,
            patient_id,
            organization_id=clinic.org["id"],
            message_content=text,
            scheduled_time=EVENING,
            **fields,
        )
    clock = clinic.day.clock
    clock.now = EVENING
    config = DispatcherConfig(
        worker_id="one-at-a-time", concurrency=1, platform_rates={}, recipient_rates={}
    )
    dispatcher = Dispatcher(pool, clinic.day.senders, TemplateRenderer(), clock, config)
    clinic.telegram.hold_next(chat_id=first_chat)
    running = asyncio.create_task(dispatcher.run_once())
    await clinic.telegram.wait_for_held()
    statuses = await conn.fetch("select status from scheduled_messages where status = 'processing'")
    assert len(statuses) == 2  # both claimed: the second waits behind the held send

    clock.now = EVENING + timedelta(minutes=1)
    changed = await clinic.web.patch(
        f"/api/v1/patients/{patient['id']}",
        json={"quiet_start": "23:00", "quiet_end": "07:00"},
        headers=clinic.auth,
    )
    assert changed.status_code == 200, changed.text
    await run_planner_tick(pool, clock.now, clinic.day.settings)  # takes the change's note

    clinic.telegram.release_held(200)
    await running
    row = await conn.fetchrow(
        "select status, last_error from scheduled_messages where patient_id = $1", patient["id"]
    )
    assert (row["status"], row["last_error"]) == ("pending", DEFERRED)  # by the claim's window

    await clinic.day.at(EVENING + timedelta(minutes=2))  # the next pass, then the dispatcher
    await clinic.day.at(EVENING + timedelta(minutes=2))
    assert telegram_to(clinic.telegram, chat) == [TEXT]
