"""A clinic's share of priority 0 through ``POST /api/v1/messages`` (docs/api.md, "Priority 0: a
share per clinic").

Priority 0 is the time-critical level: the claim takes it ahead of every clinic's dose reminders.
A clinic could post any number of messages at priority 0, and a bulk of them was claimed ahead of
every other clinic's reminders on the shared bot. Now each clinic has
``MEDREMIND_API_PRIORITY_ZERO_PER_HOUR`` of them per clock hour (UTC) they go in; past it a message
is accepted at priority 5 with a ``priority_share`` warning naming the hour and the share.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg

from core.db import Database
from core.service_limits import publish_limits
from core.settings import Settings
from medremind.web import create_app
from tests.web.conftest import Clock, make_client

SHARE = 2
HOUR = "2026-03-04T11:00Z to 2026-03-04T12:00Z"


def _warning(hour: str) -> dict[str, str]:
    return {
        "code": "priority_share",
        "field": "priority",
        "message": "priority 0 goes ahead of every clinic's dose reminders, so a clinic may"
        f" schedule {SHARE} such messages for each hour (UTC) they go in, and your clinic's"
        f" {SHARE} for {hour} are taken: this one was accepted at priority 5 (the default),"
        " after the dose reminders due with it. Keep priority 0 for the few messages that must"
        " go within seconds, send news to many patients at the default priority"
        " (POST /messages/group), or spread an urgent round over hours; the service's operator"
        " sets the share (MEDREMIND_API_PRIORITY_ZERO_PER_HOUR)",
    }


async def test_priority_zero_past_the_clinics_share_is_accepted_at_five_saying_why(
    web_settings: Settings,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    patient: asyncpg.Record,
    auth: dict[str, str],
    other_auth: dict[str, str],
    other_org: asyncpg.Record,
) -> None:
    # Many messages to one patient: no cap per patient here (test_api_patient_message_cap's).
    settings = web_settings.model_copy(
        update={
            "api_priority_zero_per_hour": SHARE,
            "clinic_messages_per_patient_hour": 0,
            "clinic_messages_per_patient_day": 0,
        }
    )
    await publish_limits(db.pool, settings)
    app = create_app(
        settings, database=db, senders=senders, clock=chat_clock, detach_processing=False
    )
    # Noon in Berlin (chat_clock: 11:50 UTC): outside the patient's quiet hours.
    body = {"patient_id": str(patient["id"]), "text": "Recall: do not use lot 42.", "priority": 0}
    async with make_client(app) as web:
        answers = [await web.post("/api/v1/messages", json=body, headers=auth) for _ in range(3)]
        assert [a.status_code for a in answers] == [201, 201, 201], answers[-1].text
        assert [a.json()["priority"] for a in answers] == [0, 0, 5]
        assert [a.json()["warnings"] for a in answers] == [[], [], [_warning(HOUR)]]

        # A refused create takes nothing; a replay of a granted one takes nothing again.
        bad = await web.post(
            "/api/v1/messages", json={**body, "patient_id": str(other_org["id"])}, headers=auth
        )
        assert bad.status_code == 422, bad.text
        keyed = {**auth, "Idempotency-Key": "recall-1"}
        later = (chat_clock.now + timedelta(hours=1)).isoformat()
        first = await web.post(
            "/api/v1/messages", json={**body, "scheduled_time": later}, headers=keyed
        )
        again = await web.post(
            "/api/v1/messages", json={**body, "scheduled_time": later}, headers=keyed
        )
        assert (first.json()["priority"], again.json()["priority"]) == (0, 0)
        second = await web.post(
            "/api/v1/messages", json={**body, "scheduled_time": later}, headers=auth
        )
        assert (second.json()["priority"], second.json()["warnings"]) == (0, [])
        third = await web.post(
            "/api/v1/messages", json={**body, "scheduled_time": later}, headers=auth
        )
        assert third.json()["priority"] == 5
        next_hour = _warning("2026-03-04T12:00Z to 2026-03-04T13:00Z")
        assert third.json()["warnings"] == [next_hour], third.text

        # Another clinic has its own share; other priorities are not counted.
        other_patient = await admin_conn.fetchval(
            "insert into patients (organization_id, display_name, timezone, consent_at,"
            " channel_order) values ($1, 'Other', 'UTC', now(), '{telegram}') returning id",
            other_org["id"],
        )
        await admin_conn.execute(
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, 'telegram', '555000111', true)",
            other_patient,
        )
        other = {**body, "patient_id": str(other_patient)}
        theirs = await web.post("/api/v1/messages", json=other, headers=other_auth)
        assert (theirs.json()["priority"], theirs.json()["warnings"]) == (0, []), theirs.text
        routine = await web.post("/api/v1/messages", json={**body, "priority": 1}, headers=auth)
        assert (routine.json()["priority"], routine.json()["warnings"]) == (1, [])

        # Held by quiet hours, a message counts in the hour it goes: when they end.
        await admin_conn.execute(
            "update patients set quiet_start = $2, quiet_end = $3 where id = $1",
            patient["id"],
            time(21, 0),
            time(8, 0),
        )
        chat_clock.now = datetime(2026, 3, 4, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
        night = [await web.post("/api/v1/messages", json=body, headers=auth) for _ in range(3)]
    assert [n.json()["priority"] for n in night] == [0, 0, 5]
    codes = [w["code"] for w in night[2].json()["warnings"]]
    assert codes == ["quiet_hours", "priority_share"], night[2].text
    assert night[2].json()["warnings"][1] == _warning("2026-03-05T07:00Z to 2026-03-05T08:00Z")
    stored = await admin_conn.fetch(
        "select priority, count(*) from scheduled_messages where organization_id = $1"
        " group by 1 order by 1",
        patient["organization_id"],
    )
    assert [tuple(r) for r in stored] == [(0, 6), (1, 1), (5, 3)]


async def test_a_share_of_zero_gives_no_message_priority_zero(
    web_settings: Settings,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    patient: asyncpg.Record,
    auth: dict[str, str],
) -> None:
    settings = web_settings.model_copy(update={"api_priority_zero_per_hour": 0})
    app = create_app(
        settings, database=db, senders=senders, clock=chat_clock, detach_processing=False
    )
    body = {"patient_id": str(patient["id"]), "text": "Recall.", "priority": 0}
    async with make_client(app) as web:
        answer = await web.post("/api/v1/messages", json=body, headers=auth)
    assert answer.status_code == 201, answer.text
    assert answer.json()["priority"] == 5
    assert [w["code"] for w in answer.json()["warnings"]] == ["priority_share"]
