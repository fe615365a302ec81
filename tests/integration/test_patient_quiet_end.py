"""``public.patient_quiet_end`` (migration 20260101017650), which counts a held re-send of a
priority-0 message in the hour it goes: the end of the patient's quiet window holding an instant,
as the dispatcher defers a message (scheduler/quiet_hours.py quiet_window_end, the reference),
across midnight and both clock changes; null outside the window."""

from __future__ import annotations

from datetime import time

import asyncpg
import pytest

from scheduler.quiet_hours import quiet_window_end
from tests.factories import create_organization, create_patient
from tests.integration.test_patient_quiet_at import AT, WINDOWS

# Ends the clocks skip (Berlin, 2027-03-28 02:00-03:00) and repeat (2027-10-31 02:00-03:00).
CLOCK_CHANGES = [("Europe/Berlin", (time(1), time(2, 30))), ("Europe/Berlin", (time(0), time(2)))]


@pytest.mark.parametrize(("zone", "window"), WINDOWS + CLOCK_CHANGES)
async def test_the_end_is_the_dispatchers(
    admin_conn: asyncpg.Connection, zone: str, window: tuple[time, time]
) -> None:
    org = await create_organization(admin_conn, name="Quiet Clinic")
    patient = await create_patient(
        admin_conn, org["id"], timezone=zone, quiet_start=window[0], quiet_end=window[1]
    )
    for at in AT:
        got = await admin_conn.fetchval(
            "select public.patient_quiet_end($1, $2, $3)", patient["id"], org["id"], at
        )
        assert got == quiet_window_end(at, zone, *window), (zone, window, at)
