"""Issue 20: the capacity settings through the API: a clinic's paid broadcasts and early window
(``PATCH /api/v1/clinic``), and time-critical medications (``/patients/{id}/medications``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx

from core.db import Database
from core.settings import Settings
from scheduler.planner import run_planner_tick
from tests import factories

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
DOSE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_clinic_capacity_settings(web: httpx.AsyncClient, auth: dict) -> None:
    change = {
        "telegram_paid_broadcast_after_seconds": 30,
        "telegram_paid_stars_monthly": 250.5,
        "early_send_seconds": {"medication_reminder": 300},
    }
    changed = await web.patch("/api/v1/clinic", json=change, headers=auth)
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()[k] for k in change} == change
    read = (await web.get("/api/v1/clinic", headers=auth)).json()
    assert {k: read[k] for k in change} == change
    for bad, field in (
        ({"early_send_seconds": {"refill_reminder": 60}}, "early_send_seconds"),
        ({"early_send_seconds": {"medication_reminder": -1}}, "early_send_seconds"),
        ({"telegram_paid_broadcast_after_seconds": "soon"}, "telegram_paid_broadcast"),
        ({"telegram_paid_stars_monthly": -1}, "telegram_paid_stars_monthly"),
        ({"telegram_paid_stars_monthly": 0.05}, "telegram_paid_stars_monthly"),  # 0.1 a message
        ({"telegram_paid_stars_monthly": 2_000_000}, "telegram_paid_stars_monthly"),
    ):
        refused = await web.patch("/api/v1/clinic", json=bad, headers=auth)
        assert refused.status_code == 422 and field in refused.text, refused.text
    off = await web.patch(
        "/api/v1/clinic", json={"telegram_paid_broadcast_after_seconds": None}, headers=auth
    )
    assert off.json()["telegram_paid_broadcast_after_seconds"] is None
    assert off.json()["early_send_seconds"] == {"medication_reminder": 300}
    assert off.json()["telegram_paid_stars_monthly"] == 250.5
    assert off.json()["telegram_paid_stars_used"] == 0.0
    none = await web.patch(
        "/api/v1/clinic", json={"telegram_paid_stars_monthly": None}, headers=auth
    )
    assert none.json()["telegram_paid_stars_monthly"] is None


async def test_marking_a_medication_time_critical_moves_its_planned_reminders(
    web: httpx.AsyncClient,
    auth: dict,
    org: asyncpg.Record,
    other_org: asyncpg.Record,
    admin_conn: asyncpg.Connection,
    db: Database,
    web_settings: Settings,
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"])
    medication, _ = await factories.create_medication(
        admin_conn, patient["id"], times=(time(8, 0),)
    )
    await run_planner_tick(db.pool, NOW, web_settings)
    # As if a peak had sent it early: marking it time-critical puts it back at its dose's time.
    await admin_conn.execute(
        "update scheduled_messages set scheduled_time = $1 where kind = 'medication_reminder'",
        DOSE - timedelta(minutes=4),
    )
    path = f"/api/v1/patients/{patient['id']}/medications"
    listed = (await web.get(path, headers=auth)).json()["data"]
    assert [(m["id"], m["time_critical"]) for m in listed] == [(str(medication["id"]), False)]

    marked = await web.patch(
        f"{path}/{medication['id']}", json={"time_critical": True}, headers=auth
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["time_critical"] is True
    rows = await admin_conn.fetch(
        "select m.priority, m.scheduled_time, d.due_at from scheduled_messages m"
        " join dose_events d on d.id = m.dose_event_id where m.status = 'pending'"
    )
    assert rows and all(r["priority"] == 0 and r["scheduled_time"] == r["due_at"] for r in rows)

    unmarked = await web.patch(
        f"{path}/{medication['id']}", json={"time_critical": False}, headers=auth
    )
    assert unmarked.json()["time_critical"] is False
    assert {
        r["priority"] for r in await admin_conn.fetch("select priority from scheduled_messages")
    } == {1}

    bad = await web.patch(f"{path}/{medication['id']}", json={"time_critical": "yes"}, headers=auth)
    assert bad.status_code == 422 and "time_critical" in bad.text
    stranger = await factories.create_patient(admin_conn, other_org["id"])
    other_path = f"/api/v1/patients/{stranger['id']}/medications"
    assert (await web.get(other_path, headers=auth)).status_code == 404
    foreign = await web.patch(
        f"{other_path}/{medication['id']}", json={"time_critical": True}, headers=auth
    )
    assert foreign.status_code == 404


async def test_marking_time_critical_never_brings_a_later_reminder_forward(
    web: httpx.AsyncClient,
    auth: dict,
    org: asyncpg.Record,
    admin_conn: asyncpg.Connection,
    db: Database,
    web_settings: Settings,
) -> None:
    """Attack run: a reminder later than its dose's time (the patient snoozed it, the rate
    limit or quiet hours put it back) keeps its time; only one planned early comes back."""
    patient = await factories.create_patient(admin_conn, org["id"])
    medication, _ = await factories.create_medication(
        admin_conn, patient["id"], times=(time(8, 0),)
    )
    await run_planner_tick(db.pool, NOW, web_settings)
    snoozed_until = DOSE + timedelta(minutes=30)
    await admin_conn.execute(
        "update scheduled_messages m set scheduled_time = $1 from dose_events d"
        " where d.id = m.dose_event_id and d.due_at = $2",
        snoozed_until,
        DOSE,
    )
    marked = await web.patch(
        f"/api/v1/patients/{patient['id']}/medications/{medication['id']}",
        json={"time_critical": True},
        headers=auth,
    )
    assert marked.status_code == 200, marked.text
    rows = await admin_conn.fetch(
        "select m.priority, m.scheduled_time from scheduled_messages m"
        " join dose_events d on d.id = m.dose_event_id where m.status = 'pending'"
        " and d.due_at = $1",
        DOSE,
    )
    assert [(r["priority"], r["scheduled_time"]) for r in rows] == [(0, snoozed_until)]
