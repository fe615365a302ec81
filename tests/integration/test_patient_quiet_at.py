"""``public.patient_quiet_at`` (migration 20260101016850), which a group message's count uses to
say how many an urgent message reaches at night: the dispatcher's window (the patient's own when
both ends are set, else the clinic's default) in the patient's zone, [start, end), across
midnight and clock changes, null for an unknown zone and for another clinic's patient. The
dispatcher's own rule (scheduler/quiet_hours.py quiet_window_end) is the reference."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time

import asyncpg
import pytest

from scheduler.quiet_hours import quiet_window_end
from tests.factories import create_organization, create_patient

AT = [
    datetime(2027, 1, 12, 20, 59, tzinfo=UTC),
    datetime(2027, 1, 12, 21, 0, tzinfo=UTC),
    datetime(2027, 1, 13, 6, 59, tzinfo=UTC),
    datetime(2027, 1, 13, 7, 0, tzinfo=UTC),
    datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # Berlin springs forward at 01:00 UTC
    datetime(2027, 3, 28, 6, 30, tzinfo=UTC),
    datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # and falls back at 01:00 UTC
    datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
]
WINDOWS = [
    ("Europe/Berlin", (time(22), time(8))),
    ("Europe/Berlin", (time(2), time(3))),
    ("America/New_York", (time(9), time(17))),
    ("Asia/Tokyo", (time(0), time(0))),  # start = end: no quiet hours
]


@pytest.mark.parametrize(("zone", "window"), WINDOWS)
async def test_the_window_is_the_dispatchers(
    admin_conn: asyncpg.Connection, zone: str, window: tuple[time, time]
) -> None:
    org = await create_organization(admin_conn, name="Quiet Clinic")
    own = await create_patient(
        admin_conn, org["id"], timezone=zone, quiet_start=window[0], quiet_end=window[1]
    )
    await admin_conn.execute(
        "update organizations set default_quiet_start = $2, default_quiet_end = $3 where id = $1",
        org["id"],
        *window,
    )
    clinics = await create_patient(admin_conn, org["id"], timezone=zone)
    for at in AT:
        expected = quiet_window_end(at, zone, *window) is not None
        for patient in (own, clinics):
            got = await admin_conn.fetchval(
                "select public.patient_quiet_at($1, $2, $3)", patient["id"], org["id"], at
            )
            assert got is expected, (zone, window, at)


async def test_an_unknown_zone_or_another_clinics_patient_is_null(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await create_organization(admin_conn, name="Quiet Clinic")
    other = await create_organization(admin_conn, name="Other Clinic")
    lost = await create_patient(admin_conn, org["id"], timezone="Etc/Unknown")
    theirs = await create_patient(admin_conn, other["id"])
    at = AT[0]
    assert (
        await admin_conn.fetchval(
            "select public.patient_quiet_at($1, $2, $3)", lost["id"], org["id"], at
        )
        is None
    )
    assert (
        await admin_conn.fetchval(
            "select public.patient_quiet_at($1, $2, $3)", theirs["id"], org["id"], at
        )
        is None
    )
    # A clinician of the clinic learns nothing of the other clinic's patient (row-level security).
    user = await admin_conn.fetchval(
        "insert into auth.users (email) values ($1) returning id", f"{uuid.uuid4()}@clinic.test"
    )
    await admin_conn.execute(
        "insert into clinicians (id, organization_id, display_name) values ($1, $2, 'Dr Q')",
        user,
        org["id"],
    )
    async with admin_conn.transaction():
        await admin_conn.execute("set local role authenticated")
        claims = json.dumps({"sub": str(user), "role": "authenticated"})
        await admin_conn.execute("select set_config('request.jwt.claims', $1, true)", claims)
        seen = await admin_conn.fetchval(
            "select public.patient_quiet_at($1, $2, $3)", theirs["id"], other["id"], at
        )
    assert seen is None
