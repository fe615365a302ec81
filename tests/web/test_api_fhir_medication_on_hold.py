"""A ``MedicationRequest`` put ``on-hold`` in the clinic's EHR pauses its imported medicine;
``active`` again resumes it.

Before: ``on-hold`` was a 422 ("not to be taken yet") and ``active`` again a 409 ("imported
already"), so an EHR pausing a drug (before surgery, on a lab value) left the patient reminded of
it. Over the real app (the API on its clock), the planner's tick and the worker's dispatcher
sending to the loopback Telegram: a reminder sent, the hold, a day in which nothing is sent for
it, then the resume and the next dose's reminder sent.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import asyncpg
import httpx

from core.db import Database
from core.settings import Settings
from core.sql import query
from scheduler.planner import run_planner_tick
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.chat import START, Clock, worker
from tests.web.test_api_fhir_medication_stopped import (
    PATH,
    _pending,
    _request,
    answer,
    cancel_reason,
)

CHAT = 7_400_261


async def test_on_hold_pauses_the_medicine_and_active_again_resumes_it(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    web_settings: Settings,
    auth: dict,
    other_auth: dict,
    org: Any,
) -> None:
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"telegram": str(CHAT)},
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    imported = await web.post(PATH, json=_request(patient["id"], "rx-950"), headers=auth)
    assert imported.status_code == 201, imported.text
    medication = imported.json()["medication_id"]
    chat_clock.now = START + timedelta(minutes=15)
    assert await worker(db, senders, chat_clock).run_once() == 1  # noon's reminder
    waiting = await _pending(admin_conn, medication)
    assert waiting >= 1

    # Another clinic cannot hold it (nor name the patient).
    theirs = await web.post(
        PATH, json=_request(patient["id"], "rx-950", "on-hold"), headers=other_auth
    )
    assert theirs.status_code == 422, theirs.text
    assert theirs.json()["error"]["field"] == "subject.reference"

    held = await web.post(PATH, json=_request(patient["id"], "rx-950", "on-hold"), headers=auth)
    assert held.status_code == 200, held.text
    assert held.json() == answer(medication, patient, "paused", "on-hold", waiting)
    assert await _pending(admin_conn, medication) == 0
    assert (
        await cancel_reason(admin_conn, medication) == "medicine paused: MedicationRequest on-hold"
    )
    listed = await web.get(f"/api/v1/patients/{patient['id']}/medications", headers=auth)
    assert [(m["status"], m["paused_by"]) for m in listed.json()["data"]] == [("paused", "fhir")]
    again = await web.post(PATH, json=_request(patient["id"], "rx-950", "on-hold"), headers=auth)
    assert again.status_code == 200 and again.json()["reminders_cancelled"] == 0, again.text

    # A day of ticks and sends while it rests: nothing about it.
    sent_before = len(fake_telegram.sent_messages)
    assert db.pool is not None
    for hours in range(1, 25, 3):
        chat_clock.now = START + timedelta(hours=hours)
        await run_planner_tick(db.pool, chat_clock.now, web_settings)
        await worker(db, senders, chat_clock).run_once()
    assert len(fake_telegram.sent_messages) == sent_before
    assert await _pending(admin_conn, medication) == 0

    # Off hold: planned again at once, and the next dose's reminder goes.
    chat_clock.now = START + timedelta(hours=24, minutes=30)  # 12:20 the next day
    resumed = await web.post(PATH, json=_request(patient["id"], "rx-950"), headers=auth)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "active" and resumed.json()["fhir_status"] == "active"
    assert resumed.json()["medication_id"] == medication
    assert await _pending(admin_conn, medication) >= 1
    chat_clock.now = START + timedelta(hours=30, minutes=15)  # 18:05
    assert await worker(db, senders, chat_clock).run_once() == 1
    assert len(fake_telegram.sent_messages) == sent_before + 1
    # Active, the same request once more is the duplicate it always was.
    duplicate = await web.post(PATH, json=_request(patient["id"], "rx-950"), headers=auth)
    assert duplicate.status_code == 409, duplicate.text


async def test_the_ehrs_active_does_not_undo_the_patients_own_pause(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict, patient: Any
) -> None:
    """An EHR's sync resends every active request: only a pause the EHR made is resumed by it,
    not one the patient made in /meds (the bot's own statements, on the real database)."""
    imported = await web.post(PATH, json=_request(patient["id"], "rx-960"), headers=auth)
    assert imported.status_code == 201, imported.text
    medication = imported.json()["medication_id"]
    for statement in ("set_medication_status", "set_schedules_status"):  # /meds' pause
        await admin_conn.execute(query("bot", statement), medication, patient["id"], "paused")

    synced = await web.post(PATH, json=_request(patient["id"], "rx-960"), headers=auth)
    assert synced.status_code == 409, synced.text  # imported already, as before
    assert await _status(admin_conn, medication) == "paused"

    # The EHR's hold of a medicine the patient paused keeps it theirs: its active keeps it paused.
    held = await web.post(PATH, json=_request(patient["id"], "rx-960", "on-hold"), headers=auth)
    assert held.status_code == 200 and held.json()["status"] == "paused", held.text
    synced = await web.post(PATH, json=_request(patient["id"], "rx-960"), headers=auth)
    assert synced.status_code == 409, synced.text
    assert await _status(admin_conn, medication) == "paused"

    # The patient resumes, the EHR holds and then resumes: the EHR's pause is the EHR's to lift.
    for statement in ("set_medication_status", "set_schedules_status"):  # /meds' resume
        await admin_conn.execute(query("bot", statement), medication, patient["id"], "active")
    held = await web.post(PATH, json=_request(patient["id"], "rx-960", "on-hold"), headers=auth)
    assert held.status_code == 200, held.text
    assert await _status(admin_conn, medication) == "paused"
    resumed = await web.post(PATH, json=_request(patient["id"], "rx-960"), headers=auth)
    assert resumed.status_code == 200 and resumed.json()["status"] == "active", resumed.text
    assert await _status(admin_conn, medication) == "active"


async def _status(conn: asyncpg.Connection, medication: str) -> str:
    return await conn.fetchval("select status from medications where id = $1", medication)
