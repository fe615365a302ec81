"""``POST /messages`` says when the patient's quiet hours hold the message, and until when.

Found as an integrator (``medremind web`` on the embedded database): a message to a Madrid
patient sent at 03:35 their time was answered 201, ``"status": "pending"``, ``"warnings": []``;
it went at 08:00, four and a half hours later, and nothing in the answer said so (the dashboard
says it, since last session). Now the answer carries a ``quiet_hours`` warning naming the window,
the zone and the instant it goes (the worker's own rule: ``scheduler.quiet_hours``), and what
sends it sooner. Urgent messages, and times outside the window, have none.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx

from tests.web.conftest import Clock

# 22:30 in Berlin (UTC+1 in March): inside 21:00-08:00; it ends at 07:00 UTC next day.
NIGHT = datetime(2026, 3, 4, 21, 30, tzinfo=UTC)


async def test_a_message_inside_quiet_hours_is_accepted_saying_when_it_goes(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    patient: asyncpg.Record,
    auth: dict[str, str],
    chat_clock: Clock,
) -> None:
    await admin_conn.execute(
        "update patients set quiet_start = $2, quiet_end = $3 where id = $1",
        patient["id"],
        time(21, 0),
        time(8, 0),
    )
    chat_clock.now = NIGHT
    body = {"patient_id": str(patient["id"]), "text": "Your results are ready."}

    response = await web.post("/api/v1/messages", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == [
        {
            "code": "quiet_hours",
            "field": "scheduled_time",
            "message": "the patient's quiet hours (21:00-08:00 in Europe/Berlin) hold this"
            " time: it is sent when they end, at 2026-03-05T07:00:00Z. Give `urgent: true`"
            " to send it inside them, or a `scheduled_time` outside them",
        }
    ]

    urgent = await web.post("/api/v1/messages", json={**body, "urgent": True}, headers=auth)
    assert urgent.status_code == 201, urgent.text
    assert urgent.json()["warnings"] == []
    morning = (NIGHT + timedelta(hours=12)).isoformat()
    later = await web.post(
        "/api/v1/messages", json={**body, "scheduled_time": morning}, headers=auth
    )
    assert later.status_code == 201, later.text
    assert later.json()["warnings"] == []
