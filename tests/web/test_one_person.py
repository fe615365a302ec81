"""One person, one record (issue 14 item 4, issue 15 item 7), over the web process.

* A self-registered Telegram patient opens their clinic's invite: asked first, then merged into
  the clinic's record (contact point, medicines, schedules, dose history, caregiver, pending
  reminder, this chat); the old record is gone, so nothing of it sends. /delete_me then erases
  the person and leaves the clinic a tombstone without personal data.
* A clinic registering a phone that someone else owns gets a record without it, told so
  (``held_elsewhere``, an ``address_held_elsewhere`` warning: tests/web/test_api_address_held_
  elsewhere.py), the same answer whoever owns it; a self-registered owner is sent an invitation
  by SMS and accepts it by replying in their chat.

Real parts: the web app (``/telegram/webhook`` with its secret, signed ``/twilio/inbound``,
``/api/v1``), the conversation engine and the dispatcher on the test database, the loopback
Telegram and Twilio. Quiet hours are off for the patients who receive messages.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx

from core.db import Database
from core.templating import TemplateRenderer
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.planning_rules import CLINIC_PAUSE_REASON
from tests import factories
from tests.fakes.fake_telegram import FakeTelegram, text_update
from tests.fakes.fake_twilio import FakeTwilio, inbound_form
from tests.web.conftest import WEBHOOK_SECRET, twilio_signature

SECRET = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
CHAT = 555400001
PHONE = "+14155550177"
QUIET_OFF = {"quiet_start": time(0, 0), "quiet_end": time(0, 0)}
PAUSE_END = "select reminders_paused_until from patients where id = $1 and reminders_paused"


def _dispatcher(db: Database, senders: dict) -> Dispatcher:
    assert db.pool is not None
    config = DispatcherConfig(worker_id="test-worker", platform_rates={}, recipient_rates={})
    return Dispatcher(db.pool, senders, TemplateRenderer(), lambda: datetime.now(UTC), config)


async def _telegram(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post("/telegram/webhook", json=text_update(CHAT, text), headers=SECRET)
    assert response.status_code == 200


async def _sms(client: httpx.AsyncClient, text: str) -> None:
    form = inbound_form(PHONE, text)
    headers = {"X-Twilio-Signature": twilio_signature("/twilio/inbound", form)}
    response = await client.post("/twilio/inbound", data=form, headers=headers)
    assert response.status_code == 200


async def _self_registered(conn: asyncpg.Connection, contacts: dict[str, str]) -> asyncpg.Record:
    """A patient who registered in the bot on their own, with a medicine, history and more."""
    patient = await factories.create_patient(
        conn, None, contacts=contacts, display_name="Ana Own", timezone="Europe/Madrid", **QUIET_OFF
    )
    channel, address = next(iter(contacts.items()))
    await conn.execute(
        "insert into conversations (channel, chat_address, patient_id) values ($1, $2, $3)",
        channel,
        address,
        patient["id"],
    )
    _, schedule = await factories.create_medication(conn, patient["id"])
    now = datetime.now(UTC)
    taken = await factories.create_dose_event(conn, schedule, now - timedelta(days=1))
    await conn.execute("update dose_events set status = 'taken' where id = $1", taken["id"])
    upcoming = await factories.create_dose_event(conn, schedule, now + timedelta(hours=3))
    await factories.create_message(
        conn,
        patient["id"],
        kind="medication_reminder",
        message_content=None,
        dose_event_id=upcoming["id"],
        scheduled_time=now + timedelta(hours=3),
    )
    await conn.execute(
        "insert into caregivers (patient_id, name, channel, address) values ($1, 'Bea', 'sms',"
        " '+14155550999')",
        patient["id"],
    )
    # An open question on the chat (a reminder it was sent), which "1" would answer.
    await conn.execute(
        "insert into conversation_questions"
        " (patient_id, channel, chat_address, dose_event_id, options, asked_at)"
        " values ($1, $2, $3, $4, $5, $6)",
        patient["id"],
        channel,
        address,
        taken["id"],
        [{"label": "Taken", "data": f"d:{taken['id'].hex}:t", "keys": ["1"]}],
        now - timedelta(days=1),
    )
    return patient


async def _rows_of(conn: asyncpg.Connection, patient_id: object) -> dict[str, int]:
    counts = {}
    for table in (
        "contact_points",
        "medications",
        "reminder_schedules",
        "dose_events",
        "caregivers",
        "scheduled_messages",
        "conversations",
        "conversation_questions",
    ):
        # The bot's replies (rows naming their chat) come and go with every turn: not counted.
        replies = " and conversation_id is null" if table == "scheduled_messages" else ""
        counts[table] = await conn.fetchval(
            f"select count(*) from {table} where patient_id = $1{replies}",
            patient_id,
        )
    return counts


async def test_invite_on_a_registered_chat_merges_after_asking_then_delete_me_tombstones(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    own = await _self_registered(admin_conn, {"telegram": str(CHAT)})
    await _telegram(client, "/pause 3 days")
    own_end = await admin_conn.fetchval(PAUSE_END, own["id"])
    assert own_end is not None
    before = await _rows_of(admin_conn, own["id"])
    created = await client.post(
        "/api/v1/patients",
        json={"display_name": "Ana Clinic", "external_id": "EHR-1"},
        headers=auth,
    )
    assert created.status_code == 201
    clinic_id = created.json()["id"]
    # The clinic paused its record for a day: the patient's own three days last longer.
    shorter = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    paused = await client.patch(
        f"/api/v1/patients/{clinic_id}",
        json={"reminders_paused": True, "reminders_paused_until": shorter},
        headers=auth,
    )
    assert paused.status_code == 200, paused.text
    token = (await client.post(f"/api/v1/patients/{clinic_id}/invites", headers=auth)).json()[
        "token"
    ]

    await _telegram(client, f"/start {token}")
    question = fake_telegram.sent_messages[-1]
    assert "North Clinic" in (question.text or "") and "Join North Clinic?" in (question.text or "")
    # Nothing changed yet: asking is not merging.
    assert await _rows_of(admin_conn, own["id"]) == before

    await _telegram(client, "Join North Clinic")  # the button's label, typed
    assert "now a patient of North Clinic" in (fake_telegram.sent_messages[-1].text or "")
    assert await admin_conn.fetchval("select count(*) from patients where id = $1", own["id"]) == 0
    merged = await _rows_of(admin_conn, clinic_id)
    assert merged == before
    patient = await admin_conn.fetchrow("select * from patients where id = $1", clinic_id)
    assert patient["display_name"] == "Ana Clinic"  # the clinic's name for them
    assert patient["timezone"] == "Europe/Madrid"  # their own settings win
    assert patient["consent_at"] is not None and patient["status"] == "active"
    # The pause that lasts longer is kept, with its end (migration 20260101018300).
    assert (patient["reminders_paused"], patient["reminders_paused_until"]) == (True, own_end)
    org = await admin_conn.fetchval(
        "select distinct organization_id from scheduled_messages where patient_id = $1", clinic_id
    )
    assert str(org) == str(patient["organization_id"])
    used = await admin_conn.fetchval("select used_at from patient_invites")
    assert used is not None
    # The clinic now sees the chat as the patient's contact point.
    contacts = (await client.get(f"/api/v1/patients/{clinic_id}", headers=auth)).json()["contacts"]
    assert [(c["channel"], c["address"]) for c in contacts] == [("telegram", str(CHAT))]

    await _telegram(client, "/delete_me")
    await _telegram(client, "Yes, delete everything")
    assert "deleted" in (fake_telegram.sent_messages[-1].text or "")
    tombstone = await admin_conn.fetchrow("select * from patients where id = $1", clinic_id)
    assert tombstone["status"] == "deleted"
    assert tombstone["erasure_reason"] == "deleted at the patient's request"
    assert tombstone["erased_at"] is not None
    assert tombstone["display_name"] is None and tombstone["external_id"] is None
    assert set((await _rows_of(admin_conn, clinic_id)).values()) == {0}
    assert await admin_conn.fetchval("select count(*) from patients") == 1


async def test_invite_on_a_registered_chat_declined_changes_nothing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    own = await _self_registered(admin_conn, {"telegram": str(CHAT)})
    before = await _rows_of(admin_conn, own["id"])
    created = await client.post("/api/v1/patients", json={"display_name": "Ana"}, headers=auth)
    token = (
        await client.post(f"/api/v1/patients/{created.json()['id']}/invites", headers=auth)
    ).json()["token"]
    await _telegram(client, f"/start {token}")
    await _telegram(client, "Not now")
    assert "nothing has changed" in (fake_telegram.sent_messages[-1].text or "")
    assert await _rows_of(admin_conn, own["id"]) == before
    assert await admin_conn.fetchval("select used_at from patient_invites") is None


async def test_a_clinic_patient_keeps_their_record_when_another_clinic_invites(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    admin_conn: asyncpg.Connection,
    other_org: asyncpg.Record,
    fake_telegram: FakeTelegram,
) -> None:
    theirs = await factories.create_patient(
        admin_conn, other_org["id"], contacts={"telegram": str(CHAT)}
    )
    await admin_conn.execute(
        "insert into conversations (channel, chat_address, patient_id) values ('telegram', $1, $2)",
        str(CHAT),
        theirs["id"],
    )
    created = await client.post("/api/v1/patients", json={"display_name": "Ana"}, headers=auth)
    token = (
        await client.post(f"/api/v1/patients/{created.json()['id']}/invites", headers=auth)
    ).json()["token"]
    await _telegram(client, f"/start {token}")
    assert "cannot join North Clinic" in (fake_telegram.sent_messages[-1].text or "")
    owner = await admin_conn.fetchval(
        "select patient_id from contact_points where address = $1", str(CHAT)
    )
    assert owner == theirs["id"]


def _shape(body: dict) -> dict:
    """A create-patient answer without its values: keys, and each contact's keys and flags."""
    return {
        "keys": sorted(body),
        "contacts": [
            (sorted(c), c["channel"], c["verified"], c["opted_out"]) for c in body["contacts"]
        ],
        "status": body["status"],
    }


async def test_registering_someone_elses_phone_says_so_and_invites_the_owner(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    admin_conn: asyncpg.Connection,
    db: Database,
    senders: dict,
    fake_twilio: FakeTwilio,
) -> None:
    own = await _self_registered(admin_conn, {"sms": PHONE})
    request = {"display_name": "Ana", "phone": PHONE, "channel_order": ["sms"], "consent": True}
    taken = await client.post("/api/v1/patients", json=request, headers=auth)
    fresh = await client.post(
        "/api/v1/patients", json=request | {"phone": "+14155550188"}, headers=auth
    )
    assert taken.status_code == fresh.status_code == 201
    assert _shape(taken.json()) == _shape(fresh.json())
    assert taken.json()["contacts"][0]["address"] == PHONE
    assert [c["held_elsewhere"] for c in taken.json()["contacts"]] == [True]
    assert [w["code"] for w in taken.json()["warnings"]] == ["address_held_elsewhere"]
    clinic_id = taken.json()["id"]
    # The clinic pauses its record until resumed (the patient is in hospital, say).
    paused = await client.patch(
        f"/api/v1/patients/{clinic_id}", json={"reminders_paused": True}, headers=auth
    )
    assert paused.json()["reminders_paused"] is True
    later = await client.get(f"/api/v1/patients/{clinic_id}", headers=auth)
    assert _shape(later.json()) == _shape(
        (await client.get(f"/api/v1/patients/{fresh.json()['id']}", headers=auth)).json()
    )
    # The number still belongs to its owner; they are invited, by SMS, to join.
    owner = await admin_conn.fetchval(
        "select patient_id from contact_points where address = $1", PHONE
    )
    assert owner == own["id"]
    await _dispatcher(db, senders).run_once()
    [invitation] = [m for m in fake_twilio.messages if m.to == PHONE]
    assert "North Clinic" in (invitation.body or "")
    token = re.search(r"/start (\w+)", invitation.body or "")
    assert token is not None

    await _sms(client, f"/start {token.group(1)}")
    assert "Join North Clinic?" in (fake_twilio.messages[-1].body or "")
    await _sms(client, "1")
    assert "now a patient of North Clinic" in (fake_twilio.messages[-1].body or "")
    owner = await admin_conn.fetchval(
        "select patient_id from contact_points where address = $1", PHONE
    )
    assert str(owner) == clinic_id
    assert await admin_conn.fetchval("select count(*) from patients where id = $1", own["id"]) == 0
    merged = (await client.get(f"/api/v1/patients/{clinic_id}", headers=auth)).json()
    assert [(c["channel"], c["address"]) for c in merged["contacts"]] == [("sms", PHONE)]
    # The clinic's pause holds, open-ended, though the patient's own record was not paused; the
    # reminder that record had pending is withdrawn, as a /pause would, in the clinic's name:
    # the patient did not pause.
    assert (merged["reminders_paused"], merged["reminders_paused_until"]) == (True, None)
    assert await admin_conn.fetch(
        "select status, last_error from scheduled_messages where patient_id = $1"
        " and kind = 'medication_reminder'",
        uuid.UUID(clinic_id),
    ) == [("cancelled", CLINIC_PAUSE_REASON)]


async def test_another_clinics_patient_phone_is_said_held_and_moves_nothing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    admin_conn: asyncpg.Connection,
    other_org: asyncpg.Record,
) -> None:
    theirs = await factories.create_patient(admin_conn, other_org["id"], contacts={"sms": PHONE})
    request = {"display_name": "Ana", "phone": PHONE, "channel_order": ["sms"], "consent": True}
    taken = await client.post("/api/v1/patients", json=request, headers=auth)
    fresh = await client.post(
        "/api/v1/patients", json=request | {"phone": "+14155550188"}, headers=auth
    )
    assert taken.status_code == fresh.status_code == 201
    assert _shape(taken.json()) == _shape(fresh.json())
    owner = await admin_conn.fetchval(
        "select patient_id from contact_points where address = $1", PHONE
    )
    assert owner == theirs["id"]
    # No invitation lands on another clinic's patient (one chat, one clinic's record).
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where patient_id = $1", theirs["id"]
        )
        == 0
    )


async def test_a_clinics_erasure_request_leaves_a_tombstone(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    other_auth: dict[str, str],
    admin_conn: asyncpg.Connection,
    fake_telegram: FakeTelegram,
) -> None:
    own = await _self_registered(admin_conn, {"telegram": str(CHAT)})
    await _telegram(client, "/today")  # a stored inbound text of the chat
    created = await client.post(
        "/api/v1/patients",
        json={"display_name": "Ana Clinic", "external_id": "EHR-9"},
        headers=auth,
    )
    clinic_id = created.json()["id"]
    token = (await client.post(f"/api/v1/patients/{clinic_id}/invites", headers=auth)).json()[
        "token"
    ]
    await _telegram(client, f"/start {token}")
    await _telegram(client, "Join North Clinic")
    assert await admin_conn.fetchval("select count(*) from patients where id = $1", own["id"]) == 0

    assert (
        await client.delete(f"/api/v1/patients/{clinic_id}", headers=other_auth)
    ).status_code == 404
    erased = await client.delete(f"/api/v1/patients/{clinic_id}", headers=auth)
    assert erased.status_code == 200
    body = erased.json()
    assert (
        body["status"] == "deleted" and body["erasure_reason"] == "deleted at the clinic's request"
    )
    assert body["erased_at"] and body["display_name"] is None and body["external_id"] is None
    assert body["contacts"] == []
    again = await client.get(f"/api/v1/patients/{clinic_id}", headers=auth)
    assert again.status_code == 200 and again.json() == body
    assert (await client.delete(f"/api/v1/patients/{clinic_id}", headers=auth)).json() == body
    assert set((await _rows_of(admin_conn, clinic_id)).values()) == {0}
    assert (
        await admin_conn.fetchval(
            "select count(*) from inbound_messages where chat_address = $1", str(CHAT)
        )
        == 0
    )
    # The chat is a stranger now.
    await _telegram(client, "/meds")
    assert "/start" in (fake_telegram.sent_messages[-1].text or "")
