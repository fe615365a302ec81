"""A re-send takes its priority 0 from the clinic's hourly share (migration 20260101017650).

A re-send copied the failed message's priority and counted nothing: a clinic whose priority-0
messages failed re-sent them at priority 0 past its share
(``MEDREMIND_API_PRIORITY_ZERO_PER_HOUR``), from the API and from the dashboard, and could re-send
each copy that failed again. Now a copy of
a priority-0 message takes one of the clinic's priority-0 messages for the hour (UTC) it goes in
(held by quiet hours: when they end); past the share the copy is made at priority 5, and the
API's answer says why (``priority_share``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import asyncpg

from core.db import Database
from core.service_limits import publish_limits
from core.settings import Settings
from medremind.web import create_app
from tests import factories
from tests.integration.clinician import as_clinician
from tests.web.conftest import Clock, make_client

SHARE = 2


async def _fail(conn: asyncpg.Connection, message_id: str) -> None:
    """What the worker leaves of a message no channel took."""
    await conn.execute(
        "update scheduled_messages set status = 'failed', last_error = 'chat not found'"
        " where id = $1",
        uuid.UUID(message_id),
    )


async def test_a_resent_priority_zero_message_takes_from_the_clinics_share(
    web_settings: Settings,
    db: Database,
    senders: dict,
    chat_clock: Clock,
    admin_conn: asyncpg.Connection,
    org: asyncpg.Record,
    patient: asyncpg.Record,
    auth: dict[str, str],
) -> None:
    settings = web_settings.model_copy(update={"api_priority_zero_per_hour": SHARE})
    app = create_app(
        settings, database=db, senders=senders, clock=chat_clock, detach_processing=False
    )
    body = {"patient_id": str(patient["id"]), "text": "Recall: do not use lot 42.", "priority": 0}
    # What `medremind web` does at start (tests/web/test_service_limits.py): the share is every
    # re-send's, the dashboard's too.
    assert db.pool is not None
    await publish_limits(db.pool, settings)
    async with make_client(app) as web:
        sent = [await web.post("/api/v1/messages", json=body, headers=auth) for _ in range(2)]
        assert [s.json()["priority"] for s in sent] == [0, 0], sent[-1].text
        for answer in sent:
            await _fail(admin_conn, answer.json()["id"])

        # The hour's two are taken: the copy goes at 5, and the answer says why.
        copy = await web.post(f"/api/v1/messages/{sent[0].json()['id']}/resend", headers=auth)
        assert copy.status_code == 201, copy.text
        assert copy.json()["priority"] == 5
        assert [w["code"] for w in copy.json()["warnings"]] == ["priority_share"]
        assert (
            "your clinic's 2 for the hour this copy goes in are taken"
            in (copy.json()["warnings"][0]["message"])
        )
        again = await web.post(f"/api/v1/messages/{sent[0].json()['id']}/resend", headers=auth)
        assert (again.status_code, again.json()["id"]) == (200, copy.json()["id"])

        # An hour later the share is the next hour's: the copy keeps priority 0.
        chat_clock.now += timedelta(hours=1)
        later = await web.post(f"/api/v1/messages/{sent[1].json()['id']}/resend", headers=auth)
        assert (later.json()["priority"], later.json()["warnings"]) == (0, []), later.text

        # The dashboard's re-send (as the clinician, who gives no time: the form with one is
        # the service's) takes from the same share, for the hour of the database's clock. The
        # API fills that hour and the next (the hour may end meanwhile), urgent: no quiet hours.
        # Another patient's: the per-patient cap counts messages by when they were made.
        clinician = await factories.create_clinician(admin_conn, org["id"])
        other = await factories.create_patient(admin_conn, org["id"], timezone="Europe/Berlin")
        failed = await factories.create_message(
            admin_conn, other["id"], status="failed", priority=0, urgent=True
        )
        start = await admin_conn.fetchval("select now()")
        fill = {**body, "patient_id": str(other["id"]), "urgent": True}
        for hour in (0, 1):
            chat_clock.now = start + timedelta(hours=hour)
            for _ in range(SHARE):
                made = await web.post("/api/v1/messages", json=fill, headers=auth)
                assert made.status_code == 201, made.text
        async with as_clinician(admin_conn, clinician["id"]) as conn:
            outcome, copy_id = await conn.fetchrow(
                "select outcome, message_id from resend_message($1, 'dashboard')", failed["id"]
            )
        assert outcome == "resent"
        priority = "select priority from scheduled_messages where id = $1"
        assert await admin_conn.fetchval(priority, copy_id) == 5

        # Held by quiet hours, a copy counts in the hour it goes: when they end (07:00 UTC).
        await admin_conn.execute(
            "update patients set quiet_start = $2, quiet_end = $3 where id = $1",
            patient["id"],
            time(21, 0),
            time(8, 0),
        )
        chat_clock.now = datetime(2026, 3, 4, 21, 30, tzinfo=UTC)  # 22:30 in Berlin
        night = [await web.post("/api/v1/messages", json=body, headers=auth) for _ in range(2)]
        assert [n.json()["priority"] for n in night] == [0, 0]
        await _fail(admin_conn, night[0].json()["id"])
        held = await web.post(f"/api/v1/messages/{night[0].json()['id']}/resend", headers=auth)
        assert held.json()["priority"] == 5, held.text
        # Urgent, it goes now (21:00 UTC), an hour of its own.
        urgent = await web.post("/api/v1/messages", json={**body, "urgent": True}, headers=auth)
        assert urgent.json()["priority"] == 0, urgent.text
        await _fail(admin_conn, urgent.json()["id"])
        now = await web.post(f"/api/v1/messages/{urgent.json()['id']}/resend", headers=auth)
        assert (now.json()["priority"], now.json()["warnings"]) == (0, []), now.text
