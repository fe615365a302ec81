"""The patient web app's API on the real app and database: sign-in by a one-time link sent over
the patient's channel, the day's doses and appointments, answers through the bot's recorders,
push subscriptions and notification buttons, sessions that end."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from core.db import Database
from core.settings import Settings, load_settings
from core.sql import query
from medremind.web import create_app
from platforms.push_actions import ActionSigner
from platforms.webpush import VapidKey
from scheduler.planner import run_planner_tick
from tests import factories
from tests.web.conftest import web_env

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
PHONE = "+14155550123"
KEY = VapidKey.generate()
BASE = "https://medremind.example.org"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        web_env(
            database_url,
            tmp_path,
            PUBLIC_BASE_URL=BASE,
            VAPID_PRIVATE_KEY=KEY.private_text(),
            VAPID_SUBJECT="mailto:ops@clinic.example",
        )
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(app_settings: Settings, db: Database, clock: Clock) -> AsyncIterator[httpx.Client]:
    app = create_app(app_settings, database=db, senders={}, clock=clock, resume_on_startup=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE) as client,
    ):
        yield client  # type: ignore[misc]


@pytest.fixture
async def world(admin_conn: asyncpg.Connection) -> dict[str, Any]:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(
        admin_conn, org["id"], contacts={"sms": PHONE}, display_name="Ana"
    )
    _, schedule = await factories.create_medication(admin_conn, patient["id"], pill_count=30)
    dose = await factories.create_dose_event(admin_conn, schedule, NOW - timedelta(hours=1))
    nag = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="dose_followup",
        message_content=None,
        dose_event_id=dose["id"],
        scheduled_time=NOW + timedelta(minutes=15),
    )
    appointment = await admin_conn.fetchrow(
        "insert into appointments (organization_id, patient_id, starts_at, location)"
        " values ($1, $2, $3, 'Room 4') returning *",
        org["id"],
        patient["id"],
        NOW + timedelta(days=1),
    )
    return {"patient": patient, "dose": dose, "nag": nag, "appointment": appointment}


async def _sign_in(http: Any, admin_conn: asyncpg.Connection, address: str = PHONE) -> None:
    answer = await http.post("/app/api/sign-in/request", json={"address": address})
    assert answer.status_code == 202
    content = await admin_conn.fetchval(
        "select message_content from scheduled_messages where kind = 'system'"
        " order by created_at desc limit 1"
    )
    token = re.search(r"/app/#sign-in=([\w-]+)", content)[1]  # type: ignore[index]
    signed = await http.post("/app/api/sign-in", json={"token": token})
    assert signed.status_code == 200, signed.text


async def test_sign_in_link_goes_to_the_patients_channel_once(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    answer = await http.post("/app/api/sign-in/request", json={"address": "+1 415-555-0123"})
    assert answer.status_code == 202
    message = await admin_conn.fetchrow(
        "select * from scheduled_messages where kind = 'system' and patient_id = $1",
        world["patient"]["id"],
    )
    assert message["platform"] == "sms" and message["urgent"] and not message["allow_fallback"]
    assert message["expires_at"] == NOW + timedelta(minutes=15)
    token = re.search(rf"{BASE}/app/#sign-in=([\w-]+)", message["message_content"])[1]  # type: ignore[index]
    stored = await admin_conn.fetchval("select token_hash from patient_sign_in_links")
    assert token not in stored  # only the hash is kept

    # An unknown address gets the same answer and sends nothing.
    unknown = await http.post("/app/api/sign-in/request", json={"address": "+14155550999"})
    assert unknown.status_code == 202 and unknown.json() == answer.json()
    assert (
        await admin_conn.fetchval("select count(*) from scheduled_messages where kind = 'system'")
        == 1
    )
    # At most three links per patient in 15 minutes.
    for _ in range(4):
        await http.post("/app/api/sign-in/request", json={"address": PHONE})
    assert await admin_conn.fetchval("select count(*) from patient_sign_in_links") == 3

    signed = await http.post("/app/api/sign-in", json={"token": token})
    assert signed.status_code == 200
    cookie = signed.headers["set-cookie"].lower()
    for attribute in ("httponly", "samesite=strict", "path=/app", "secure", "max-age=43200"):
        assert attribute in cookie
    again = await http.post("/app/api/sign-in", json={"token": token})
    assert again.status_code == 401 and "used already or has expired" in again.text
    # The spent link's text is gone from the message row the clinic can read.
    assert (
        await admin_conn.fetchval(
            "select message_content from scheduled_messages where id = $1", message["id"]
        )
        == "MedRemind sign-in link (used)"
    )


async def test_an_expired_link_signs_nobody_in(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any], clock: Clock
) -> None:
    await http.post("/app/api/sign-in/request", json={"address": PHONE})
    content = await admin_conn.fetchval(
        "select message_content from scheduled_messages where kind = 'system'"
    )
    token = re.search(r"#sign-in=([\w-]+)", content)[1]  # type: ignore[index]
    clock.now = NOW + timedelta(minutes=16)
    assert (await http.post("/app/api/sign-in", json={"token": token})).status_code == 401
    assert (await http.get("/app/api/today")).status_code == 401


async def test_today_and_answers_go_through_the_same_recorders(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    await _sign_in(http, admin_conn)
    today = (await http.get("/app/api/today")).json()
    assert today["date"] == "2026-03-04"
    assert today["push_key"] == KEY.application_server_key
    (dose,) = today["doses"]
    assert dose == {
        "id": str(world["dose"]["id"]),
        "time": "11:00",
        "medicine": "Metformin",
        "dose": "500 mg",
        "status": "due",
        "snoozed_until": None,
        "open": True,
        "snoozable": True,
    }
    (visit,) = today["appointments"]
    assert (visit["date"], visit["time"], visit["location"]) == ("2026-03-05", "12:00", "Room 4")
    assert "clinic" not in visit  # the clinic's zone is the patient's

    taken = await http.post(f"/app/api/doses/{dose['id']}/answer", json={"answer": "taken"})
    assert taken.status_code == 200 and taken.json()["status"] == "taken"
    row = await admin_conn.fetchrow(
        "select status, answered_at, answered_channel from dose_events where id = $1",
        world["dose"]["id"],
    )
    assert (row["status"], row["answered_at"], row["answered_channel"]) == ("taken", NOW, "web")
    assert (
        await admin_conn.fetchval(
            "select pill_count from medications where id = $1", world["dose"]["medication_id"]
        )
        == 29
    )
    assert (
        await admin_conn.fetchval(
            "select status from scheduled_messages where id = $1", world["nag"]["id"]
        )
        == "cancelled"
    )
    twice = await http.post(f"/app/api/doses/{dose['id']}/answer", json={"answer": "skipped"})
    assert twice.json()["already_answered"] is True

    confirmed = await http.post(
        f"/app/api/appointments/{visit['id']}/answer", json={"action": "confirm"}
    )
    assert confirmed.json()["status"] == "confirmed"
    assert (
        await admin_conn.fetchval(
            "select status from appointments where id = $1", world["appointment"]["id"]
        )
        == "confirmed"
    )

    bad = await http.post(f"/app/api/doses/{dose['id']}/answer", json={"answer": "eaten"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "answer"


async def test_another_patients_dose_and_appointment_are_not_found(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    other = await factories.create_patient(admin_conn, contacts={"sms": "+14155550777"})
    _, schedule = await factories.create_medication(admin_conn, other["id"])
    foreign = await factories.create_dose_event(admin_conn, schedule, NOW)
    await _sign_in(http, admin_conn)
    answer = await http.post(f"/app/api/doses/{foreign['id']}/answer", json={"answer": "taken"})
    assert answer.status_code == 404
    assert (
        await admin_conn.fetchval("select status from dose_events where id = $1", foreign["id"])
        == "due"
    )


async def test_sessions_end_by_sign_out_everywhere_and_by_time(
    http: Any,
    admin_conn: asyncpg.Connection,
    world: dict[str, Any],
    clock: Clock,
    app_settings: Settings,
    db: Database,
) -> None:
    await _sign_in(http, admin_conn)
    assert (await http.get("/app/api/today")).status_code == 200
    clock.now = NOW + timedelta(hours=12, seconds=1)
    assert (await http.get("/app/api/today")).status_code == 401

    clock.now = NOW
    await _sign_in(http, admin_conn)
    app = create_app(app_settings, database=db, senders={}, clock=clock, resume_on_startup=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as phone:
        await _sign_in(phone, admin_conn)
        out = await phone.post("/app/api/sign-out", json={"everywhere": True})
        assert out.status_code == 200
        assert (await phone.get("/app/api/today")).status_code == 401
    assert (await http.get("/app/api/today")).status_code == 401


async def test_push_subscription_and_notification_buttons(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    await _sign_in(http, admin_conn)
    subscription = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
        "keys": {"p256dh": "B" + "x" * 86, "auth": "a" * 22},
    }
    assert (await http.post("/app/api/push/subscribe", json=subscription)).status_code == 201
    row = await admin_conn.fetchrow(
        "select c.patient_id, c.address, s.retired_at from push_subscriptions s"
        " join contact_points c on c.id = s.contact_point_id"
    )
    assert row["patient_id"] == world["patient"]["id"] and row["retired_at"] is None
    assert row["address"].startswith("app-")
    order = await admin_conn.fetchval(
        "select channel_order from patients where id = $1", world["patient"]["id"]
    )
    assert order == ["webpush", "sms"]
    for endpoint in (
        "http://fcm.googleapis.com/fcm/send/x",
        "https://10.0.0.7/x",
        "https://localhost/x",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://fcm.googleapis.com.evil.example/x",
        "https://fcm.googleapis.com:8443/x",
    ):
        refused = await http.post(
            "/app/api/push/subscribe", json={**subscription, "endpoint": endpoint}
        )
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "endpoint"

    # A notification's Snooze button, posted by the service worker without a session.
    data = f"d:{world['dose']['id'].hex}:s"
    token = ActionSigner(KEY.secret_bytes()).sign(data, time.time())
    async with httpx.AsyncClient(transport=http._transport, base_url=BASE) as worker:
        forged = await worker.post(
            "/app/api/push/answer", json={"data": f"d:{world['dose']['id'].hex}:t", "token": token}
        )
        assert forged.status_code == 403
        pressed = await worker.post("/app/api/push/answer", json={"data": data, "token": token})
    assert pressed.status_code == 200 and pressed.json()["status"] == "snoozed"
    assert await admin_conn.fetchval(
        "select snoozed_until from dose_events where id = $1", world["dose"]["id"]
    ) == NOW + timedelta(minutes=15)


async def test_hostile_requests_get_clear_answers(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    deep = b'{"address":' + b"[" * 5000 + b"]" * 5000 + b"}"
    answer = await http.post(
        "/app/api/sign-in/request", content=deep, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400 and "nested deeper" in answer.text
    big = await http.post(
        "/app/api/sign-in/request",
        content=b'{"address":"' + b"a" * 40_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413
    cross = await http.post(
        "/app/api/sign-in/request",
        json={"address": PHONE},
        headers={"origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    form = await http.post("/app/api/sign-in", data={"token": "x" * 40})
    assert form.status_code == 415


async def test_the_page_its_worker_and_manifest_are_served_safely(http: Any) -> None:
    page = await http.get("/app/")
    assert page.status_code == 200 and "<main" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    worker = await http.get("/app/sw.js")
    assert worker.headers["service-worker-allowed"] == "/app/"
    assert "notificationclick" in worker.text
    manifest = (await http.get("/app/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    assert (await http.get("/app/static/icon-512.png")).headers["content-type"] == "image/png"
    assert (await http.get("/app/static/..%2F__init__.py")).status_code == 404


async def test_erasure_and_age_remove_what_the_app_kept(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    await _sign_in(http, admin_conn)
    patient_id = world["patient"]["id"]
    await admin_conn.execute(
        "insert into patient_app_connections (patient_id) values ($1)", patient_id
    )
    # Links and sessions a week past their end are forgotten by the web's housekeeping.
    old = await admin_conn.fetchval(
        "insert into patient_sign_in_links (patient_id, token_hash, channel, created_at,"
        " expires_at) values ($1, repeat('0', 64), 'sms', $2, $3) returning id",
        patient_id,
        NOW - timedelta(days=9),
        NOW - timedelta(days=8),
    )
    await admin_conn.execute(query("patient_app", "forget_old_sign_ins"), NOW)
    assert not await admin_conn.fetchval(
        "select count(*) from patient_sign_in_links where id = $1", old
    )
    assert await admin_conn.fetchval("select count(*) from patient_web_sessions") == 1

    await admin_conn.execute("select erase_patient($1, 'patient asked', $2)", patient_id, NOW)
    for table in (
        "patient_sign_in_links",
        "patient_web_sessions",
        "patient_app_connections",
        "websocket_deliveries",
    ):
        assert await admin_conn.fetchval(f"select count(*) from {table}") == 0, table
    assert (await http.get("/app/api/today")).status_code == 401


async def test_settings_pause_names_quiet_hours_and_delete_me(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    await _sign_in(http, admin_conn)
    # Without hours of their own, the clinic's apply: the app says which (empty fields read as
    # "no quiet hours" to a patient).
    await admin_conn.execute(
        "update organizations set default_quiet_start = '22:30', default_quiet_end = '06:45'"
        " where id = (select organization_id from patients where id = $1)",
        world["patient"]["id"],
    )
    # In New York, 07:00 EST at NOW; its clocks spring forward on Sunday, March 8.
    await admin_conn.execute(
        "update patients set timezone = 'America/New_York' where id = $1", world["patient"]["id"]
    )
    zone = {"timezone": "America/New_York", "today": "2026-03-04"}
    assert (await http.get("/app/api/settings")).json() == {
        "paused": False,
        "paused_until": None,
        **zone,
        "name_medicine": False,
        "quiet_start": None,
        "quiet_end": None,
        "quiet_default_start": "22:30",
        "quiet_default_end": "06:45",
    }
    changed = await http.post(
        "/app/api/settings",
        json={"paused": True, "name_medicine": True, "quiet_start": "22:00", "quiet_end": "07:30"},
    )
    assert changed.json() == {
        "paused": True,
        "paused_until": None,
        **zone,
        "name_medicine": True,
        "quiet_start": "22:00",
        "quiet_end": "07:30",
        "quiet_default_start": "22:30",
        "quiet_default_end": "06:45",
    }
    # Paused as /pause pauses: the pending follow-up is withdrawn.
    assert (
        await admin_conn.fetchval(
            "select status from scheduled_messages where id = $1", world["nag"]["id"]
        )
        == "cancelled"
    )
    # A length or an end date, as the bot's "/pause 5 days" and "/pause until 3/15" read them in
    # the patient's zone (bot/pause_end.py): 07:00 EDT on March 9 (across the change), and the
    # start of March 15; a pause picked again replaces the end, paused alone keeps it.
    for pick, ends in (
        ({"pause_days": 5}, "2026-03-09T11:00:00+00:00"),
        ({"pause_until": "2026-03-15"}, "2026-03-15T04:00:00+00:00"),
        ({}, "2026-03-15T04:00:00+00:00"),
        ({"pause_until": None}, None),
    ):
        picked = await http.post("/app/api/settings", json={"paused": True, **pick})
        assert (picked.json()["paused"], picked.json()["paused_until"]) == (True, ends), pick
    # More than 31 days ahead is asked first, as the bot asks (bot/dialogs/pause_far.py): a day
    # picked months out by mistake paused every reminder with one tap of Save. Nothing changes
    # until the same settings come again with pause_long true.
    asked = "That pauses all reminders for {}, until {}. Pause that long?"
    for pick, length, day in (
        ({"pause_until": "2026-07-04"}, "4 months", "Saturday, July 4, 2026"),
        ({"pause_days": 45}, "45 days", "Saturday, April 18, 2026"),
    ):
        far = await http.post("/app/api/settings", json={"paused": True, **pick})
        assert far.status_code == 409, far.text
        assert far.json()["error"]["code"] == "pause_long"
        assert far.json()["error"]["reason"] == asked.format(length, day)
        assert (await http.get("/app/api/settings")).json()["paused_until"] is None
    far = await http.post(
        "/app/api/settings", json={"paused": True, "pause_until": "2026-07-04", "pause_long": True}
    )
    assert far.json()["paused_until"] == "2026-07-04T04:00:00+00:00", far.text
    for body, field in (
        ({"quiet_start": "24:00", "quiet_end": "07:00"}, "quiet_start"),
        ({"quiet_start": "22:00"}, "quiet_end"),
        ({"paused": "yes"}, "paused"),
        ({"channel_order": ["sms"]}, "channel_order"),
        ({"paused": True, "pause_days": 0}, "pause_days"),
        ({"paused": True, "pause_days": 367}, "pause_days"),
        ({"paused": True, "pause_days": "3"}, "pause_days"),
        ({"paused": True, "pause_until": "2026-03-04"}, "pause_until"),  # today is no end
        ({"paused": True, "pause_until": "15/03/2026"}, "pause_until"),
        ({"paused": True, "pause_days": 3, "pause_until": "2026-03-15"}, "pause_until"),
        ({"paused": False, "pause_days": 3}, "pause_days"),
        ({"paused": True, "pause_days": 45, "pause_long": "yes"}, "pause_long"),
    ):
        refused = await http.post("/app/api/settings", json=body)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == field
    resumed = await http.post("/app/api/settings", json={"paused": False})
    assert resumed.json()["paused"] is False

    wrong = await http.post("/app/api/delete-me", json={"confirm": "yes"})
    assert wrong.status_code == 422
    deleted = await http.post("/app/api/delete-me", json={"confirm": "DELETE"})
    assert deleted.status_code == 200
    row = await admin_conn.fetchrow(
        "select status, display_name, erasure_reason from patients where id = $1",
        world["patient"]["id"],
    )
    assert row["status"] == "deleted" and row["display_name"] is None
    assert "patient" in row["erasure_reason"]
    assert (await http.get("/app/api/today")).status_code == 401


@pytest.mark.parametrize(
    ("locale", "says"),
    [("es", "De 22:00 a 22:00 no hay tiempo"), ("en", "From 22:00 to 22:00 is no time at all")],
)
async def test_quiet_hours_of_no_length_are_refused_in_the_patients_language(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any], locale: str, says: str
) -> None:
    """ "22:00 until 22:00" was kept and meant no quiet hours at all (tests/web/
    test_quiet_hours_of_no_length.py has the bot's and the API's)."""
    patient_id = world["patient"]["id"]
    await admin_conn.execute(
        "update patients set locale = $2, quiet_start = '21:00', quiet_end = '07:00' where id = $1",
        patient_id,
        locale,
    )
    await _sign_in(http, admin_conn)
    refused = await http.post(
        "/app/api/settings", json={"quiet_start": "22:00", "quiet_end": "22:00"}
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "quiet_end" and says in error["reason"], error
    assert "00:00" in error["reason"], error  # how to ask for none
    kept = await admin_conn.fetchrow(
        "select quiet_start::text, quiet_end::text from patients where id = $1", patient_id
    )
    assert tuple(kept) == ("21:00:00", "07:00:00")
    none = await http.post("/app/api/settings", json={"quiet_start": "00:00", "quiet_end": "00:00"})
    assert none.status_code == 200, none.text
    assert (none.json()["quiet_start"], none.json()["quiet_end"]) == ("00:00", "00:00")


async def test_a_dose_still_open_after_midnight_stays_on_the_day_view(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any], clock: Clock
) -> None:
    """At 00:10 the 23:30 dose that waits for an answer is still shown (and answerable); the
    answered one of that evening and an open one of the morning before are not."""
    schedule = await admin_conn.fetchrow(
        "select * from reminder_schedules where patient_id = $1", world["patient"]["id"]
    )
    midnight = datetime(2026, 3, 5, tzinfo=UTC)
    late = await factories.create_dose_event(admin_conn, schedule, midnight - timedelta(minutes=30))
    answered = await factories.create_dose_event(
        admin_conn, schedule, midnight - timedelta(minutes=40), status="taken"
    )
    clock.now = midnight + timedelta(minutes=10)
    await _sign_in(http, admin_conn)
    today = (await http.get("/app/api/today")).json()
    assert today["date"] == "2026-03-05"
    shown = {dose["id"] for dose in today["doses"]}
    assert str(late["id"]) in shown
    assert str(answered["id"]) not in shown
    assert str(world["dose"]["id"]) not in shown  # due 11:00 the day before: past the 12 hours
    taken = await http.post(f"/app/api/doses/{late['id']}/answer", json={"answer": "taken"})
    assert taken.status_code == 200 and taken.json()["status"] == "taken"


async def test_the_day_view_is_the_patients_day_where_they_are(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any], clock: Clock
) -> None:
    """The day view showed every planned dose still 'due' of the next 48 hours (the planner
    writes tomorrow's doses ahead, status 'due'), each with answer buttons, and it took the day
    by the schedule's local date, the home zone's for a patient in 'keep home times' who
    travelled. It shows the doses due between the patient's midnights where they are now, and
    those still open from the last 12 hours."""
    patient_id = world["patient"]["id"]
    schedule = await admin_conn.fetchrow(
        "select * from reminder_schedules where patient_id = $1", patient_id
    )
    # Home in Berlin, now in Tokyo: the planner's rows carry Berlin's date and clock.
    await admin_conn.execute(
        "update patients set timezone = 'Asia/Tokyo', home_timezone = 'Europe/Berlin',"
        " timezone_mode = 'home' where id = $1",
        patient_id,
    )

    async def berlin_dose(due: datetime) -> asyncpg.Record:
        local = due.astimezone(ZoneInfo("Europe/Berlin"))
        return await factories.create_dose_event(
            admin_conn, schedule, due, local_date=local.date(), local_time=local.time()
        )

    # 09:00 UTC on March 5 is 6:00 PM in Tokyo; its March 5 runs from 15:00 UTC on March 4.
    clock.now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    night = await berlin_dose(datetime(2026, 3, 4, 17, 0, tzinfo=UTC))  # 2:00 AM, Berlin's 4th
    day = await berlin_dose(datetime(2026, 3, 5, 8, 30, tzinfo=UTC))  # 5:30 PM
    tomorrow = await berlin_dose(datetime(2026, 3, 5, 17, 0, tzinfo=UTC))  # Berlin's 5th
    await admin_conn.execute(
        "update dose_events set status = 'taken', answered_at = $2 where id = $1",
        night["id"],
        night["due_at"],
    )
    await _sign_in(http, admin_conn)
    today = (await http.get("/app/api/today")).json()
    assert today["date"] == "2026-03-05"
    shown = [(dose["id"], dose["time"], dose["status"]) for dose in today["doses"]]
    assert shown == [
        (str(night["id"]), "02:00", "taken"),
        (str(day["id"]), "17:30", "due"),
    ], (shown, str(tomorrow["id"]))


async def test_a_dose_not_due_yet_cannot_be_snoozed_forward(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    """The day view offered Snooze 15 min on a dose due later today: at 12:00 it snoozed the
    17:00 dose to 12:15, bringing its reminder ('Time for your 5:00 PM dose') five hours
    forward. Such a dose may be reported taken or skipped ahead, not snoozed."""
    schedule = await admin_conn.fetchrow(
        "select * from reminder_schedules where patient_id = $1", world["patient"]["id"]
    )
    later = await factories.create_dose_event(admin_conn, schedule, NOW + timedelta(hours=5))
    await _sign_in(http, admin_conn)
    doses = {dose["id"]: dose for dose in (await http.get("/app/api/today")).json()["doses"]}
    assert doses[str(later["id"])]["open"] is True
    assert doses[str(later["id"])]["snoozable"] is False
    assert doses[str(world["dose"]["id"])]["snoozable"] is True

    snoozed = await http.post(f"/app/api/doses/{later['id']}/answer", json={"answer": "snoozed"})
    assert snoozed.status_code == 409, snoozed.text
    assert snoozed.json()["error"]["reason"] == "this dose is not due yet: it is reminded at 17:00"
    row = await admin_conn.fetchrow(
        "select status, snoozed_until from dose_events where id = $1", later["id"]
    )
    assert (row["status"], row["snoozed_until"]) == ("due", None)
    skipped = await http.post(f"/app/api/doses/{later['id']}/answer", json={"answer": "skipped"})
    assert skipped.status_code == 200 and skipped.json()["status"] == "skipped"


async def test_a_dose_long_past_cannot_be_snoozed_from_the_app_or_its_notification(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any], clock: Clock
) -> None:
    """A snooze more than 12 hours after a dose's time would send "Time for your 11:00 PM dose"
    the next day, read as that day's dose: the app and its notification's button refuse it (409,
    saying what to do instead) and change nothing; Taken still counts. The day view offers no
    snooze for it either."""
    schedule = await admin_conn.fetchrow(
        "select * from reminder_schedules where patient_id = $1", world["patient"]["id"]
    )
    late = await factories.create_dose_event(admin_conn, schedule, NOW - timedelta(hours=11))
    old = await factories.create_dose_event(admin_conn, schedule, NOW - timedelta(days=2))
    await _sign_in(http, admin_conn)
    for after, snoozable in (
        (timedelta(minutes=30), True),
        (timedelta(hours=1, minutes=30), False),
    ):
        clock.now = NOW + after  # the 01:00 dose is 11.5, then 12.5 hours past: still today's
        today = (await http.get("/app/api/today")).json()["doses"]
        shown = {dose["id"]: dose for dose in today}[str(late["id"])]
        assert (shown["open"], shown["snoozable"]) == (True, snoozable), after

    for dose in (old, late):
        clock.now = dose["due_at"] + timedelta(hours=12, seconds=1)
        snoozed = await http.post(f"/app/api/doses/{dose['id']}/answer", json={"answer": "snoozed"})
        assert snoozed.status_code == 409, snoozed.text
        assert snoozed.json()["error"]["reason"] == (
            "too late to snooze this dose: its time is more than 12 hours past;"
            " answer taken or skipped instead"
        )
        row = await admin_conn.fetchrow(
            "select status, snoozed_until from dose_events where id = $1", dose["id"]
        )
        assert (row["status"], row["snoozed_until"]) == ("due", None)
        reminders = await admin_conn.fetchval(
            "select count(*) from scheduled_messages where dose_event_id = $1", dose["id"]
        )
        assert reminders == 0
    taken = await http.post(f"/app/api/doses/{old['id']}/answer", json={"answer": "taken"})
    assert taken.status_code == 200 and taken.json()["status"] == "taken"


async def test_a_paused_patient_s_dose_cannot_be_snoozed_from_the_app(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    """Paused in the app's settings (or the medicine paused by the clinic), a snooze would
    promise a reminder the pause withholds: the day view offers none, and the answer refuses it
    (409, saying what to do) and changes nothing. It answered 200 "already_answered", which the
    app shows as "Already recorded." though nothing was. Taken still counts."""
    dose = str(world["dose"]["id"])
    await _sign_in(http, admin_conn)
    paused = await http.post("/app/api/settings", json={"paused": True})
    assert paused.json()["paused"] is True
    today = (await http.get("/app/api/today")).json()["doses"]
    shown = {d["id"]: d for d in today}[dose]
    assert (shown["open"], shown["snoozable"]) == (True, False)
    snoozed = await http.post(f"/app/api/doses/{dose}/answer", json={"answer": "snoozed"})
    assert snoozed.status_code == 409, snoozed.text
    assert snoozed.json()["error"]["reason"] == (
        "no reminder would come back for this dose: your reminders or its medicine are paused;"
        " resume them, or answer taken or skipped instead"
    )
    row = await admin_conn.fetchrow(
        "select status, snoozed_until from dose_events where id = $1", world["dose"]["id"]
    )
    assert (row["status"], row["snoozed_until"]) == ("due", None)

    await http.post("/app/api/settings", json={"paused": False})
    await admin_conn.execute(
        "update medications set status = 'paused' where patient_id = $1", world["patient"]["id"]
    )
    today = (await http.get("/app/api/today")).json()["doses"]
    assert {d["id"]: d for d in today}[dose]["snoozable"] is False
    snoozed = await http.post(f"/app/api/doses/{dose}/answer", json={"answer": "snoozed"})
    assert snoozed.status_code == 409, snoozed.text
    taken = await http.post(f"/app/api/doses/{dose}/answer", json={"answer": "taken"})
    assert taken.status_code == 200 and taken.json()["status"] == "taken"


async def test_a_dose_missed_while_unreachable_alerts_nobody_when_the_app_brings_them_back(
    http: Any,
    admin_conn: asyncpg.Connection,
    world: dict[str, Any],
    clock: Clock,
    app_settings: Settings,
    db: Database,
) -> None:
    """Signed in to the app, the patient sends STOP by SMS, their only channel, after the 11:00
    reminder; its missed mark (12:00) passes with no planner pass, and at 12:05 they turn on the
    app's notifications: a channel again. As when the bot brings them back (2f35edd), the pass
    the spell would have had runs first: the dose is missed with no caregiver alert. Before,
    the next pass found them reachable and alerted Lucía "Ana has not confirmed"."""
    patient = world["patient"]["id"]
    await _sign_in(http, admin_conn)
    await factories.create_message(
        admin_conn,
        patient,
        kind="medication_reminder",
        message_content=None,
        dose_event_id=world["dose"]["id"],
        scheduled_time=NOW - timedelta(hours=1),
        status="sent",
        sent_at=NOW - timedelta(hours=1),
    )
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address, alert_delay_minutes)"
        " values ($1, 'Lucía', 'sms', '+14155550124', 0)",
        patient,
    )
    # What the bot's STOP writes (bot.sql opt_out_contact): no channel reaches them.
    await admin_conn.execute(
        "update contact_points set opted_out_at = $2 where patient_id = $1", patient, NOW
    )
    unreachable = "select unreachable_since is not null from patients where id = $1"
    assert await admin_conn.fetchval(unreachable, patient)

    clock.now = NOW + timedelta(minutes=5)
    subscription = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
        "keys": {"p256dh": "B" + "x" * 86, "auth": "a" * 22},
    }
    assert (await http.post("/app/api/push/subscribe", json=subscription)).status_code == 201
    assert not await admin_conn.fetchval(unreachable, patient)
    assert db.pool is not None
    await run_planner_tick(db.pool, clock.now + timedelta(minutes=1), app_settings)
    status = await admin_conn.fetchval(
        "select status from dose_events where id = $1", world["dose"]["id"]
    )
    assert status == "missed"
    alerts = await admin_conn.fetch(
        "select status from scheduled_messages where kind = 'missed_dose_caregiver'"
    )
    assert alerts == []


async def test_a_visit_in_another_zone_shows_the_clinics_time(
    http: Any, admin_conn: asyncpg.Connection, world: dict[str, Any]
) -> None:
    """A clinic in Madrid, a patient in New York: the day view gives the clinic's date, time and
    city beside the patient's own (the app shows "09:00 Madrid time (03:00 your time)")."""
    await admin_conn.execute(
        "update organizations set timezone = 'Europe/Madrid' where id = $1",
        world["patient"]["organization_id"],
    )
    await admin_conn.execute(
        "update patients set timezone = 'America/New_York' where id = $1", world["patient"]["id"]
    )
    # 00:30 in Madrid on 5 March 2026 is 18:30 on the 4th in New York.
    await admin_conn.execute(
        "update appointments set starts_at = '2026-03-04T23:30:00Z' where id = $1",
        world["appointment"]["id"],
    )
    await _sign_in(http, admin_conn)
    (visit,) = (await http.get("/app/api/today")).json()["appointments"]
    assert (visit["date"], visit["time"]) == ("2026-03-04", "18:30")
    assert visit["clinic"] == {"date": "2026-03-05", "time": "00:30", "zone": "Madrid"}


@pytest.mark.parametrize(
    ("locale", "dose", "shown"),
    [("es", "1", "1 pastilla"), ("en", "2", "2 pills"), ("es", "10 ml", "10 ml")],
)
async def test_the_day_view_says_a_bare_number_dose_as_pills(
    http: Any,
    admin_conn: asyncpg.Connection,
    world: dict[str, Any],
    locale: str,
    dose: str,
    shown: str,
) -> None:
    """The day view showed a dose typed "1" as typed ("Metformin, 1": the medicine's number?)
    where the reminders and /meds say "1 pastilla" (core.dose_shown), in the patient's language."""
    await admin_conn.execute(
        "update patients set locale = $2 where id = $1", world["patient"]["id"], locale
    )
    await admin_conn.execute(
        "update medications set dose = $2 where id = $1", world["dose"]["medication_id"], dose
    )
    await _sign_in(http, admin_conn)
    (row,) = (await http.get("/app/api/today")).json()["doses"]
    assert row["dose"] == shown
