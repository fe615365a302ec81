"""Attack run: a clinic's early window written past the API (migration 20260101010600).

A signed-in admin may update their clinic's row through PostgREST (the dashboard's role), which
``PATCH /api/v1/clinic``'s 0-3600 check never sees. Such a value (a string, a huge number) made
the planner's statement fail for every clinic in its batch; the database now refuses it.
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician
from tests.web.processes import running_worker, until

_REFUSED = (
    {"medication_reminder": "soon"},
    {"medication_reminder": -1},
    {"medication_reminder": 3601},
    {"medication_reminder": 1e300},
    {"medication_reminder": 1.5},
    {"medication_reminder": None},
    {"medication_reminder": [300]},
    {"Medication Reminder!": 300},
    {f"kind_{n}": 0 for n in range(11)},
)
_UPDATE = (
    "update organizations set early_send_seconds = $1 where id = public.current_organization_id()"
)


@pytest.mark.parametrize("windows", _REFUSED, ids=[json.dumps(w)[:40] for w in _REFUSED])
async def test_an_admin_cannot_store_an_early_window_the_api_would_refuse(
    admin_conn: asyncpg.Connection, windows: dict
) -> None:
    org = await factories.create_organization(admin_conn)
    admin = await factories.create_clinician(admin_conn, org["id"], role="admin")
    with pytest.raises(asyncpg.CheckViolationError, match="early_send_seconds"):
        async with as_clinician(admin_conn, admin["id"]) as conn:
            await conn.execute(_UPDATE, windows)
    assert (
        await admin_conn.fetchval(
            "select early_send_seconds from organizations where id = $1", org["id"]
        )
        == {}
    )


async def test_an_admin_stores_a_window_the_api_would_take(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    admin = await factories.create_clinician(admin_conn, org["id"], role="admin")
    for windows in ({"medication_reminder": 0}, {"medication_reminder": 3600}, {}):
        async with as_clinician(admin_conn, admin["id"]) as conn:
            await conn.execute(_UPDATE, windows)


async def test_one_clinics_window_cannot_stop_the_planner_for_the_others(
    admin_conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    quiet = {"default_quiet_start": time(0), "default_quiet_end": time(0)}
    hostile = await factories.create_organization(admin_conn, **quiet)
    other = await factories.create_organization(admin_conn, **quiet)
    admin = await factories.create_clinician(admin_conn, hostile["id"], role="admin")
    for org in (hostile, other):
        patient = await factories.create_patient(admin_conn, org["id"])
        await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    try:
        async with as_clinician(admin_conn, admin["id"]) as conn:
            await conn.execute(_UPDATE, {"medication_reminder": "soon"})
    except asyncpg.CheckViolationError:
        pass  # refused: what this test is about is that the other clinic is still planned

    async def planned() -> bool:
        return await admin_conn.fetchval(
            "select count(*) > 0 from dose_events d join patients p on p.id = d.patient_id"
            " where p.organization_id = $1",
            other["id"],
        )

    async with running_worker(database_url, tmp_path) as log:
        await until("the other clinic's doses planned", planned, log, deadline_s=60)
