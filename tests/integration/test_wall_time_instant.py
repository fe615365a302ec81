"""``public.wall_time_instant`` (migration 20260101015590): a clinic's wall-clock time as the
first instant the clock shows it, as Python reads it (zoneinfo, fold=0).

``timestamp AT TIME ZONE`` takes the second of a time that happens twice (the night the clocks go
back), so at 00:50 that night the dashboard's "in an hour" (01:50) was scheduled two hours
ahead. A table of zones and nights, each compared with zoneinfo; and the dashboard's role, a
clinician (``authenticated``), may call it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

CASES = [
    # zone, wall time: the autumn's repeated hour, the spring's skipped one, plain times
    ("America/Los_Angeles", "2027-11-07 01:50"),
    ("America/Los_Angeles", "2027-11-07 00:50"),
    ("America/Los_Angeles", "2027-11-07 02:00"),
    ("America/Los_Angeles", "2027-03-14 02:30"),
    ("America/Los_Angeles", "2027-06-01 09:00"),
    ("Europe/London", "2027-10-31 01:30"),
    ("Europe/Madrid", "2027-10-31 02:59"),
    ("Australia/Lord_Howe", "2027-04-04 01:45"),  # goes back half an hour
    ("Pacific/Chatham", "2027-04-04 02:50"),
    ("Asia/Kolkata", "2027-11-07 01:50"),
    ("UTC", "2027-11-07 01:50"),
]


@pytest.mark.parametrize(("zone", "wall"), CASES)
async def test_the_first_instant_the_clock_shows_it(
    admin_conn: asyncpg.Connection, zone: str, wall: str
) -> None:
    naive = datetime.fromisoformat(wall)
    expected = naive.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)
    got = await admin_conn.fetchval(
        "select public.wall_time_instant($1::text::timestamp, $2)", wall, zone
    )
    assert got == expected


async def test_a_clinician_may_call_it(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        got = await conn.fetchval(
            "select public.wall_time_instant('2027-11-07 01:50', 'America/Los_Angeles')"
        )
    assert got == datetime(2027, 11, 7, 8, 50, tzinfo=UTC)
