"""A ``MedicationRequest`` stopped in the clinic's EHR stops its reminders (FHIR R4 status
``stopped``, ``cancelled``, ``completed``, ``entered-in-error``).

Before: ``status: stopped`` was a 422 ("an inactive request has nothing to remind of"), and no
other API call stopped an imported medicine: the patient went on being reminded of a drug their
doctor had stopped. Over the real app (the API on its clock), the planner's tick and the worker's
dispatcher sending to the loopback Telegram: a reminder sent, then the stop, then two days in
which nothing more is sent for it.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import asyncpg
import httpx

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram
from tests.web.chat import START, Clock, worker

PATH = "/api/v1/fhir/MedicationRequest"
CHAT = 7_400_260


def _request(patient_id: Any, request_id: str | None, status: str = "active") -> dict:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {"text": "Warfarin"},
        "dosageInstruction": [
            {"text": "5 mg", "timing": {"repeat": {"frequency": 2, "period": 1,
             "periodUnit": "d", "timeOfDay": ["12:00:00", "18:00:00"]}}}
        ],
    }  # fmt: skip
    return resource | ({"id": request_id} if request_id else {})


def answer(medication: str, patient: Any, status: str, fhir_status: str, cancelled: int) -> dict:
    """The API's answer to a stopped, paused or resumed request for Warfarin."""
    return {
        "medication_id": medication,
        "patient_id": str(patient["id"]),
        "name": "Warfarin",
        "status": status,
        "fhir_status": fhir_status,
        "reminders_cancelled": cancelled,
    }


async def cancel_reason(conn: asyncpg.Connection, medication: str) -> str:
    """The one ``last_error`` the medicine's cancelled reminders were given."""
    reason: str = await conn.fetchval(
        "select distinct s.last_error from scheduled_messages s"
        " join dose_events d on d.id = s.dose_event_id"
        " where d.medication_id = $1 and s.status = 'cancelled'",
        medication,
    )
    return reason


async def _pending(conn: asyncpg.Connection, medication: str) -> int:
    return await conn.fetchval(
        "select count(*) from scheduled_messages s join dose_events d on d.id = s.dose_event_id"
        " where d.medication_id = $1 and s.status = 'pending'",
        medication,
    )


async def test_a_stopped_request_stops_its_medicine_and_nothing_is_sent_after(
    web: httpx.AsyncClient,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
    web_settings: Settings,
    auth: dict,
    org: Any,
) -> None:
    await admin_conn.execute(
        "update organizations set default_quiet_start = '02:00', default_quiet_end = '03:00'"
        " where id = $1",
        org["id"],
    )
    patient = await factories.create_patient(
        admin_conn,
        org["id"],
        contacts={"telegram": str(CHAT)},
        quiet_start=time(2, 0),
        quiet_end=time(3, 0),
    )
    imported = await web.post(PATH, json=_request(patient["id"], "rx-900"), headers=auth)
    assert imported.status_code == 201, imported.text
    medication = imported.json()["medication_id"]

    # Noon's reminder goes; 18:00's (and noon's follow-up, if any) wait.
    chat_clock.now = START + timedelta(minutes=15)
    assert await worker(db, senders, chat_clock).run_once() == 1
    sent_before = len(fake_telegram.sent_messages)
    waiting = await _pending(admin_conn, medication)
    assert waiting >= 1

    stopped = await web.post(PATH, json=_request(patient["id"], "rx-900", "stopped"), headers=auth)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json() == answer(medication, patient, "stopped", "stopped", waiting)
    assert await _pending(admin_conn, medication) == 0
    open_doses = await admin_conn.fetchval(
        "select count(*) from dose_events where medication_id = $1"
        " and status in ('due', 'snoozed')",
        medication,
    )
    assert open_doses == 0
    assert (
        await cancel_reason(admin_conn, medication) == "medicine stopped: MedicationRequest stopped"
    )
    listed = await web.get(f"/api/v1/patients/{patient['id']}/medications", headers=auth)
    assert listed.json()["data"] == []

    # The EHR's sync sends it again: nothing more to do.
    again = await web.post(PATH, json=_request(patient["id"], "rx-900", "completed"), headers=auth)
    assert again.status_code == 200, again.text
    assert again.json()["reminders_cancelled"] == 0
    assert again.json()["fhir_status"] == "completed"

    # Two days of planner ticks and sends: nothing about it.
    assert db.pool is not None
    for hours in range(1, 49, 3):
        chat_clock.now = START + timedelta(hours=hours)
        await run_planner_tick(db.pool, chat_clock.now, web_settings)
        await worker(db, senders, chat_clock).run_once()
    assert len(fake_telegram.sent_messages) == sent_before
    assert await admin_conn.fetchval(
        "select count(*) from dose_events where medication_id = $1 and due_at > $2",
        medication,
        START + timedelta(minutes=15),
    ) == await admin_conn.fetchval(
        "select count(*) from dose_events where medication_id = $1 and due_at > $2"
        " and status = 'cancelled'",
        medication,
        START + timedelta(minutes=15),
    )


async def test_what_cannot_be_stopped_is_named(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict, org: Any, patient: Any
) -> None:
    never = await web.post(
        PATH, json=_request(patient["id"], "rx-unknown", "stopped"), headers=auth
    )
    assert never.status_code == 404, never.text
    assert never.json()["error"]["field"] == "id"
    assert (
        "no medicine was imported from this MedicationRequest id" in never.json()["error"]["reason"]
    )
    for status in ("draft", "on-hold"):  # imported as active, they reminded
        not_yet = await web.post(PATH, json=_request(patient["id"], "rx-9", status), headers=auth)
        assert not_yet.status_code == 422, not_yet.text
        assert not_yet.json()["error"]["field"] == "status"
        assert f"a request {status} is not to be taken yet" in not_yet.json()["error"]["reason"]
    # A status no MedicationRequest has was imported as active.
    for status in ("activ", "onhold", "Active"):
        typo = await web.post(PATH, json=_request(patient["id"], "rx-8", status), headers=auth)
        assert typo.status_code == 422, typo.text
        assert typo.json()["error"]["field"] == "status"
        assert (
            f"{status!r} is no MedicationRequest status; one of" in typo.json()["error"]["reason"]
        )
    assert await admin_conn.fetchval("select count(*) from medications") == 0
    no_id = await web.post(PATH, json=_request(patient["id"], None, "cancelled"), headers=auth)
    assert no_id.status_code == 422, no_id.text
    assert no_id.json()["error"]["field"] == "id"

    imported = await web.post(PATH, json=_request(patient["id"], "rx-901"), headers=auth)
    assert imported.status_code == 201, imported.text
    someone = await factories.create_patient(admin_conn, org["id"])
    theirs = await web.post(PATH, json=_request(someone["id"], "rx-901", "stopped"), headers=auth)
    assert theirs.status_code == 422 and theirs.json()["error"]["field"] == "id", theirs.text
    # Still active: nothing was stopped by the wrong patient's request.
    status = await admin_conn.fetchval(
        "select status from medications where id = $1", imported.json()["medication_id"]
    )
    assert status == "active"


async def test_another_clinics_request_id_is_not_found(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    auth: dict,
    other_auth: dict,
    other_org: Any,
    patient: Any,
) -> None:
    imported = await web.post(PATH, json=_request(patient["id"], "rx-902"), headers=auth)
    assert imported.status_code == 201, imported.text
    theirs = await factories.create_patient(admin_conn, other_org["id"])
    stop = await web.post(
        PATH, json=_request(theirs["id"], "rx-902", "stopped"), headers=other_auth
    )
    assert stop.status_code == 404, stop.text
    # Nor can they name our patient.
    ours = await web.post(
        PATH, json=_request(patient["id"], "rx-902", "stopped"), headers=other_auth
    )
    assert ours.status_code == 422 and ours.json()["error"]["field"] == "subject.reference"
    assert (
        await admin_conn.fetchval(
            "select status from medications where id = $1", imported.json()["medication_id"]
        )
        == "active"
    )
