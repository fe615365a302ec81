"""Patients stored in ``Etc/Unknown`` are found, named and repaired, not silently left out.

``Factory`` was stored as ``Etc/Unknown`` (no zone database loads it) until the API refused it:
the planner skipped such a patient's schedules ("schedule not plannable" in the worker's log)
and nobody else could tell. A migration cannot know where they live. Now the API says so on the
patient (``timezone_problem``), lists them (``?timezone_unknown=true``), the web's /metrics
counts them (``medremind_patients_timezone_unknown``), and setting ``timezone`` plans them.
Over the real app and database, on the app's clock.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Any

import asyncpg
import httpx
from prometheus_client import REGISTRY

from core.db import Database
from medremind.web.metrics import refresh_backlog
from scheduler.planner import replan_patient
from tests import factories
from tests.web.chat import START, Clock

UNKNOWN = "Etc/Unknown"


def _gauge(metrics: str) -> float:
    found = re.search(r"^medremind_patients_timezone_unknown (\S+)$", metrics, re.M)
    assert found is not None, metrics[:2000]
    return float(found.group(1))


async def _doses(conn: asyncpg.Connection, patient_id: Any) -> int:
    return await conn.fetchval("select count(*) from dose_events where patient_id = $1", patient_id)


async def test_a_patient_in_an_unknown_zone_is_named_listed_counted_and_repaired(
    web: httpx.AsyncClient,
    admin_conn: asyncpg.Connection,
    auth: dict,
    org: Any,
    other_org: Any,
    chat_clock: Clock,
    db: Database,
) -> None:
    lost = await factories.create_patient(admin_conn, org["id"], timezone=UNKNOWN)
    fine = await factories.create_patient(admin_conn, org["id"], timezone="Europe/Madrid")
    elsewhere = await factories.create_patient(admin_conn, other_org["id"], timezone=UNKNOWN)
    for patient in (lost, fine):
        await factories.create_medication(admin_conn, patient["id"], times=(time(20, 0),))
        await replan_patient(admin_conn, patient["id"], START)
    assert await _doses(admin_conn, lost["id"]) == 0  # planned nothing, said nothing
    assert await _doses(admin_conn, fine["id"]) > 0

    shown = (await web.get(f"/api/v1/patients/{lost['id']}", headers=auth)).json()
    assert shown["timezone"] == UNKNOWN
    assert "no reminder is planned for them" in shown["timezone_problem"]
    assert "set timezone (PATCH /patients/{id})" in shown["timezone_problem"]
    assert (await web.get(f"/api/v1/patients/{fine['id']}", headers=auth)).json()[
        "timezone_problem"
    ] is None

    listed = await web.get("/api/v1/patients?timezone_unknown=true", headers=auth)
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["data"]] == [str(lost["id"])]  # not another clinic's
    others = await web.get("/api/v1/patients?timezone_unknown=false", headers=auth)
    assert [p["id"] for p in others.json()["data"]] == [str(fine["id"])]

    metrics = await web.get("/metrics")
    assert _gauge(metrics.text) == 2  # every clinic's: the operator's count
    del elsewhere

    chat_clock.now = START
    repaired = await web.patch(
        f"/api/v1/patients/{lost['id']}", json={"timezone": "America/Bogota"}, headers=auth
    )
    assert repaired.status_code == 200, repaired.text
    assert repaired.json()["timezone_problem"] is None
    assert await _doses(admin_conn, lost["id"]) > 0  # planned at once
    due = await admin_conn.fetchval(
        "select min(due_at) from dose_events where patient_id = $1", lost["id"]
    )
    assert due == START.replace(hour=1, minute=0) + timedelta(days=1)  # 20:00 in Bogota, UTC-5
    # /metrics reads the database every few seconds at most: read it again now.
    assert db.pool is not None
    await refresh_backlog(db.pool)
    assert REGISTRY.get_sample_value("medremind_patients_timezone_unknown") == 1


async def test_a_clinic_in_an_unknown_zone_gives_new_patients_none_of_it(
    web: httpx.AsyncClient, admin_conn: asyncpg.Connection, auth: dict, org: Any
) -> None:
    """A clinic's own zone stored as Etc/Unknown was every new API patient's default."""
    fine = await web.get("/api/v1/clinic", headers=auth)
    assert fine.json()["timezone_problem"] is None, fine.text
    await admin_conn.execute(
        "update organizations set timezone = $2 where id = $1", org["id"], UNKNOWN
    )
    # The clinic's own settings say so, not only the refusal below.
    shown = (await web.get("/api/v1/clinic", headers=auth)).json()
    assert (
        "your clinic's timezone 'Etc/Unknown' is no place's time zone" in shown["timezone_problem"]
    )
    assert "set timezone (PATCH /clinic)" in shown["timezone_problem"]
    refused = await web.post("/api/v1/patients", json={"consent": True}, headers=auth)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "timezone"
    assert "your clinic's timezone 'Etc/Unknown' is no place's time zone" in error["reason"]
    assert await admin_conn.fetchval("select count(*) from patients") == 0
    given = await web.post(
        "/api/v1/patients", json={"consent": True, "timezone": "Europe/Madrid"}, headers=auth
    )
    assert given.status_code == 201, given.text
    fixed = await web.patch("/api/v1/clinic", json={"timezone": "Europe/Lisbon"}, headers=auth)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["timezone_problem"] is None
    default = await web.post("/api/v1/patients", json={"consent": True}, headers=auth)
    assert default.status_code == 201 and default.json()["timezone"] == "Europe/Lisbon"
