"""Times of day that Python can read: Postgres's ``time`` takes '24:00', ``datetime.time`` does not.

The dashboard's settings form stored the clinic's default quiet hours with only a ``HH:MM`` shape
check, so "24:00" went in; every dispatcher claim that included a patient of that clinic then
failed to decode (asyncpg: "hour must be in 0..23") after the claim had marked its whole batch
'processing'. Migration 20260101007400 refuses such times from any writer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import asyncpg
import pytest

from core.db import Database
from scheduler.claims import claim
from tests import factories

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

# The dashboard's statement (saveSettingsAction), run as it runs it: role authenticated, the
# clinician's claims set, the form's text cast to time.
DASHBOARD_SAVE_SETTINGS = """
    update organizations
       set default_quiet_start = $1::text::time, default_quiet_end = $2::text::time
     where id = public.current_organization_id()"""


async def _save_settings_as_clinician(
    conn: asyncpg.Connection, clinician_id: object, start: str, end: str
) -> None:
    async with conn.transaction():
        await conn.execute("set local role authenticated")
        claims = json.dumps({"sub": str(clinician_id), "role": "authenticated"})
        await conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        await conn.execute(DASHBOARD_SAVE_SETTINGS, start, end)


async def test_clinic_quiet_hours_of_24_00_are_refused_and_claims_keep_working(
    db: Database, admin_conn: asyncpg.Connection
) -> None:
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"], role="admin")
    patient = await factories.create_patient(admin_conn, org["id"])
    other = await factories.create_patient(admin_conn, None)
    for p in (patient, other):
        await factories.create_message(admin_conn, p["id"], scheduled_time=NOW)

    with pytest.raises(asyncpg.CheckViolationError):
        await _save_settings_as_clinician(admin_conn, clinician["id"], "24:00", "08:00")
    with pytest.raises(asyncpg.CheckViolationError):
        await _save_settings_as_clinician(admin_conn, clinician["id"], "21:00", "24:00")
    await _save_settings_as_clinician(admin_conn, clinician["id"], "23:59", "00:00")

    assert db.pool is not None
    claimed = await claim(db.pool, now=NOW, limit=10, worker="w1", lease_seconds=60)
    assert {c.patient_id for c in claimed} == {patient["id"], other["id"]}
    mine = next(c for c in claimed if c.patient_id == patient["id"])
    assert (mine.default_quiet_start, mine.default_quiet_end) == (time(23, 59), time(0, 0))


@pytest.mark.parametrize(
    "column",
    [
        "quiet_start",
        "quiet_end",
        "wake_time",
        "breakfast_time",
        "lunch_time",
        "dinner_time",
        "sleep_time",
    ],
)
async def test_patient_times_of_24_00_are_refused(
    admin_conn: asyncpg.Connection, column: str
) -> None:
    patient = await factories.create_patient(admin_conn, None)
    with pytest.raises(asyncpg.CheckViolationError):
        await admin_conn.execute(
            f"update patients set {column} = '24:00' where id = $1",
            patient["id"],
        )
    await admin_conn.execute(
        f"update patients set {column} = '23:59:59.999999' where id = $1",
        patient["id"],
    )
    value = await admin_conn.fetchval(
        f"select {column} from patients where id = $1",
        patient["id"],
    )
    assert value == time(23, 59, 59, 999999)
