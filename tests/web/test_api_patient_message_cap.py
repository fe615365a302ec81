"""The cap on a clinic's messages per patient (docs/api.md, "A cap per patient").

Found by an attack session: one API key created 60 ``POST /api/v1/messages`` to one patient in
5.6 s, all accepted (quiet hours held them, all due at 08:00). Now a clinic may create
``MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR`` messages per patient in a rolling hour and ``_DAY``
in 24 hours (its ``organizations.caps`` may set its own); past either, a 429 with Retry-After
naming the patient field, the limit and its setting, nothing created. A group message names such
a member and leaves them out. Checked by a trigger after locking the patient's row: two creates
at once at the limit give one 201 and one 429, and a create that waited while its patient was
erased is refused.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import httpx
import pytest

from core.db import Database
from core.service_limits import publish_limits
from core.settings import Settings
from medremind.web import create_app
from medremind.web.api_v1.clinic_caps import MAXIMUM
from tests.erasure_race import erased_while_waiting
from tests.factories import create_clinician, create_patient
from tests.integration.clinician import as_clinician
from tests.web.conftest import Clock, make_client

PER_HOUR = 2
# The dashboard form's bounds (dashboard/src/lib/patient-caps.ts reads them from there).
DASHBOARD_MAXIMUM = (
    Path(__file__).resolve().parents[2] / "dashboard/src/lib/patient-cap-maximum.json"
)
PER_DAY = 3


async def _app_client(
    web_settings: Settings, db: Database, senders: dict, chat_clock: Clock
) -> httpx.AsyncClient:
    settings = web_settings.model_copy(
        update={
            "clinic_messages_per_patient_hour": PER_HOUR,
            "clinic_messages_per_patient_day": PER_DAY,
        }
    )
    # What `medremind web` does at start: the trigger reads the limits from service_limits.
    await publish_limits(db.pool, settings)
    app = create_app(
        settings, database=db, senders=senders, clock=chat_clock, detach_processing=False
    )
    return make_client(app)


async def _count(conn: asyncpg.Connection, patient_id: object) -> int:
    return await conn.fetchval(
        "select count(*) from scheduled_messages where patient_id = $1 and from_clinic",
        patient_id,
    )


async def test_a_clinics_messages_to_one_patient_stop_at_the_cap_saying_why(
    web_settings: Settings,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    patient: asyncpg.Record,
    auth: dict[str, str],
) -> None:
    other = await create_patient(admin_conn, org["id"], contacts={"sms": "+14155550171"})
    body = {"patient_id": str(patient["id"]), "text": "Your results are ready."}
    keyed = {**auth, "Idempotency-Key": "results-1"}
    async with await _app_client(web_settings, db, senders, chat_clock) as web:
        first = await web.post("/api/v1/messages", json=body, headers=keyed)
        second = await web.post("/api/v1/messages", json=body, headers=auth)
        assert (first.status_code, second.status_code) == (201, 201), second.text
        refused = await web.post("/api/v1/messages", json=body, headers=auth)
        assert refused.status_code == 429, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("patient_message_cap", "patient_id")
        assert (error["window"], error["limit"]) == ("hour", PER_HOUR)
        assert error["setting"] == "MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR"
        assert "already has 2 messages from your clinic created in the last hour" in error["reason"]
        assert "MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR" in error["reason"]
        assert 3500 < int(refused.headers["Retry-After"]) <= 3600
        assert await _count(admin_conn, patient["id"]) == PER_HOUR

        # A replay of a created one is its first answer, not a new message; another patient of
        # the clinic is not held by this one's cap.
        replay = await web.post("/api/v1/messages", json=body, headers=keyed)
        assert replay.status_code == 201 and replay.json()["id"] == first.json()["id"]
        to_other = await web.post(
            "/api/v1/messages", json={**body, "patient_id": str(other["id"])}, headers=auth
        )
        assert to_other.status_code == 201, to_other.text

        # A cancelled message frees its place.
        cancel = await web.post(f"/api/v1/messages/{second.json()['id']}/cancel", headers=auth)
        assert cancel.status_code == 200, cancel.text
        third = await web.post("/api/v1/messages", json=body, headers=auth)
        assert third.status_code == 201, third.text

        # Two hours on, the hour is free but 24 hours hold PER_DAY (3 created, 1 cancelled: 2,
        # plus the one below) messages.
        await admin_conn.execute(
            "update scheduled_messages set created_at = created_at - interval '2 hours'"
            " where patient_id = $1",
            patient["id"],
        )
        fourth = await web.post("/api/v1/messages", json=body, headers=auth)
        assert fourth.status_code == 201, fourth.text
        day = await web.post("/api/v1/messages", json=body, headers=auth)
        assert day.status_code == 429, day.text
        assert day.json()["error"]["setting"] == "MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_DAY"
        assert "in the last 24 hours" in day.json()["error"]["reason"]
        assert 22 * 3600 - 100 < int(day.headers["Retry-After"]) <= 22 * 3600

        # A clinic's admin sets its own caps (PATCH /clinic): they take the place of the
        # service's. Bounded: 1 to the service's maximum, never 0 (off); null follows the
        # service's again.
        for bad, field in ((0, "day"), (51, "day"), (21, "hour"), (-1, "hour")):
            name = f"clinic_messages_per_patient_{field}"
            refused_cap = await web.patch("/api/v1/clinic", json={name: bad}, headers=auth)
            assert refused_cap.status_code == 422, refused_cap.text
            assert refused_cap.json()["error"]["field"] == name
            assert "a whole number from 1 to" in refused_cap.json()["error"]["reason"]
        clinic = (await web.get("/api/v1/clinic", headers=auth)).json()
        assert clinic["clinic_messages_per_patient_day"] is None
        assert clinic["patient_message_caps_in_effect"] == {"hour": PER_HOUR, "day": PER_DAY}
        set_own = await web.patch(
            "/api/v1/clinic", json={"clinic_messages_per_patient_day": 4}, headers=auth
        )
        assert set_own.status_code == 200, set_own.text
        assert set_own.json()["clinic_messages_per_patient_day"] == 4
        assert set_own.json()["patient_message_caps_in_effect"] == {"hour": PER_HOUR, "day": 4}
        caps = await admin_conn.fetchval("select caps from organizations where id = $1", org["id"])
        assert caps["appointment_per_day"] == 1  # the other caps keep theirs
        own = await web.post("/api/v1/messages", json=body, headers=auth)
        assert own.status_code == 201, own.text
        past_own = await web.post("/api/v1/messages", json=body, headers=auth)
        assert past_own.status_code == 429
        assert (
            "the clinic's caps.clinic_messages_per_patient_day"
            in (past_own.json()["error"]["reason"])
        )

        # A group message names the capped patient and leaves them out; the others get it.
        group = {"q": None, "text": "The clinic is closed on Friday.", "dry_run": True}
        dry = await web.post("/api/v1/messages/group", json=group, headers=auth)
        assert dry.status_code == 200, dry.text
        outcomes = {m["patient_id"]: m for m in dry.json()["members"]}
        capped = outcomes[str(patient["id"])]
        assert capped["outcome"] == "patient_message_cap"
        assert "the clinic's caps.clinic_messages_per_patient_day" in capped["message"]
        # Its reason says what applies to it: no STOP, no invite link.
        assert "STOP" not in capped["message"] and "invite" not in capped["message"]
        sent = await web.post(
            "/api/v1/messages/group",
            json={**group, "dry_run": False, "expected_count": dry.json()["count"]},
            headers=auth,
        )
        assert sent.status_code == 201, sent.text
        members = {m["patient_id"]: m for m in sent.json()["members"]}
        assert members[str(patient["id"])]["message_id"] is None
        assert members[str(other["id"])]["outcome"] == "scheduled"
        assert members[str(other["id"])]["message_id"] is not None

        # null: the service's cap again.
        cleared = await web.patch(
            "/api/v1/clinic", json={"clinic_messages_per_patient_day": None}, headers=auth
        )
        assert cleared.json()["clinic_messages_per_patient_day"] is None
        assert cleared.json()["patient_message_caps_in_effect"]["day"] == PER_DAY

    # The dashboard writes organizations as the signed-in admin: the same bounds hold there,
    # the database's numbers being the API's and the dashboard form's.
    assert json.loads(DASHBOARD_MAXIMUM.read_text()) == MAXIMUM
    for window, most in MAXIMUM.items():
        assert (
            await admin_conn.fetchval("select public.clinic_message_cap_maximum($1)", window)
            == most
        )
    admin = await create_clinician(admin_conn, org["id"], role="admin")
    for bad_json in ("0", "51", "2.5", '"9"'):
        with pytest.raises(asyncpg.InvalidParameterValueError, match="clinic_messages_per_"):
            async with as_clinician(admin_conn, admin["id"]) as conn:
                await conn.execute(
                    "update organizations set caps = caps || jsonb_build_object("
                    "'clinic_messages_per_patient_day', $1::text::jsonb)"
                    " where id = public.current_organization_id()",
                    bad_json,
                )
    async with as_clinician(admin_conn, admin["id"]) as conn:
        await conn.execute(
            "update organizations set caps = caps || '{\"clinic_messages_per_patient_day\": 50}'"
            " where id = public.current_organization_id()"
        )
    # Nothing else of caps is the clinic's (neither the API nor Settings offers it): the
    # planner's appointment caps set, removed or turned off, another key, are refused naming
    # the key, and so is a write of the row's id or created_at (migration 20260101018510).
    for change, key in (
        ("caps || '{\"appointment_per_day\": 1000}'", "appointment_per_day"),
        ("caps || '{\"appointment_per_week\": 0}'", "appointment_per_week"),
        ("caps - 'appointment_per_day'", "appointment_per_day"),
        ("caps || '{\"clinic_messages_per_patient_week\": 5}'", "clinic_messages_per_patient_week"),
        ("'{}'::jsonb", "appointment_per_day"),
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"caps.{key}: set by the"):
            async with as_clinician(admin_conn, admin["id"]) as conn:
                await conn.execute(
                    f"update organizations set caps = {change}"
                    " where id = public.current_organization_id()"
                )
    for column, value in (("id", "gen_random_uuid()"), ("created_at", "now()")):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="organizations"):
            async with as_clinician(admin_conn, admin["id"]) as conn:
                await conn.execute(
                    f"update organizations set {column} = {value}"
                    " where id = public.current_organization_id()"
                )
    caps = await admin_conn.fetchval("select caps from organizations where id = $1", org["id"])
    assert (caps["appointment_per_day"], caps["appointment_per_week"]) == (1, 3)
    assert caps["clinic_messages_per_patient_day"] == 50
    # The operator's own SQL is not concerned.
    await admin_conn.execute(
        "update organizations set caps = caps || '{\"appointment_per_day\": 2}' where id = $1",
        org["id"],
    )

    # The planner's reminders and the bot's replies are not the clinic's: not counted, not held.
    assert (
        await admin_conn.fetchval(
            "insert into scheduled_messages (patient_id, message_content, kind)"
            " values ($1, 'reply', 'system') returning from_clinic",
            patient["id"],
        )
        is False
    )


async def test_two_creates_at_once_at_the_limit_give_one_message(
    web_settings: Settings,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    database_url: str,
    patient: asyncpg.Record,
    auth: dict[str, str],
) -> None:
    """Both requests are held at the patient's lock until both wait there (a check that read the
    count before inserting would let both through); released, exactly one is created."""
    body = {"patient_id": str(patient["id"]), "text": "Please call the clinic."}
    async with await _app_client(web_settings, db, senders, chat_clock) as web:
        assert (await web.post("/api/v1/messages", json=body, headers=auth)).status_code == 201
        holder = await asyncpg.connect(database_url)
        tx = holder.transaction()
        await tx.start()
        # NO KEY UPDATE, as the trigger's: the inserts' foreign-key checks are not held by it.
        await holder.execute(
            "select 1 from patients where id = $1 for no key update", patient["id"]
        )
        both = asyncio.gather(
            web.post("/api/v1/messages", json=body, headers=auth),
            web.post("/api/v1/messages", json=body, headers=auth),
        )
        waiting = 0
        async with asyncio.timeout(20):
            while waiting < 2:
                await asyncio.sleep(0.05)
                # admin_conn is in no transaction: each read is a fresh view of the activity.
                waiting = await admin_conn.fetchval(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                    " and datname = current_database()"
                )
        await tx.rollback()
        await holder.close()
        answers = await both
        assert sorted(a.status_code for a in answers) == [201, 429], [a.text for a in answers]
        assert await _count(admin_conn, patient["id"]) == PER_HOUR
        # A create held at the lock while the patient is erased (erase_patient holds the row)
        # inserted after the erasure's delete: its text outlived the erasure (found against
        # medremind dev). The trigger reads the status under the lock: a 422, nothing stored.
        refused = await erased_while_waiting(
            database_url,
            admin_conn,
            patient["id"],
            web.post("/api/v1/messages", json=body, headers=auth),
        )
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "patient_id"
    assert "erased while the message was being created" in refused.json()["error"]["reason"]
    left = "select count(*) from scheduled_messages where patient_id = $1"
    assert await admin_conn.fetchval(left, patient["id"]) == 0
