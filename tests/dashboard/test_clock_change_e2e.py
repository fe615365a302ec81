"""A time the clocks skip in the clinic's timezone, written in the dashboard, in headless Chromium
against ``next start`` and a real ``medremind web`` on a fresh database.

Found at an odd hour (01:50 on the night summer time begins in America/Los_Angeles, the clock
moved with tests/clock/run_at.py): a message scheduled for 02:30 that night, which never
happens there, was saved for 03:30 without a word (PostgreSQL reads a skipped wall time with the
offset before the change), and so was an appointment, or a move of one. Now Compose, New
appointment and Move refuse it naming the field and why, keep what was typed and save nothing;
a real time of the same night goes through. A time that happens twice (the night the clocks go
back) is the first time the clock shows it (before: the second, an hour later; migration
20260101015590). The nights are the next changes after today, so the test holds whatever the
date. The browser script is ``dashboard/e2e/clock-change.e2e.mjs``;
screenshots ``clock-change-compose.png``, ``clock-change-appointment.png``. Skipped without node
and chromium.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from tests.dashboard.harness import admin_and_clinician, built_dashboard_env, run_dashboard_script
from tests.dashboard.test_dashboard_e2e import pytestmark  # noqa: F401 (the same skip)
from tests.factories import create_patient

ZONE = "America/Los_Angeles"


def next_change(after: date, hour: int, *, skipped: bool) -> date:
    """The next day after ``after`` whose ``hour``:30 the clocks skip in :data:`ZONE` (spring),
    or show twice (autumn)."""
    zone = ZoneInfo(ZONE)
    day = after + timedelta(days=1)
    while True:
        first = datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone)
        if skipped:
            # A skipped wall time does not come back from a round trip through UTC.
            back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
            if back != first.replace(tzinfo=None):
                return day
        elif first.utcoffset() != first.replace(fold=1).utcoffset():
            return day
        day += timedelta(days=1)


async def test_a_time_the_clocks_skip_is_refused_not_moved_an_hour(
    database_url: str, admin_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    db_env = built_dashboard_env(database_url)
    admin, _ = await admin_and_clinician(
        db_env,
        admin_conn,
        "Harbour Night",
        ("admin@night.test", "admin pass 1234"),
        ("nurse@night.test", "nurse pass 1234"),
    )
    org_id = uuid.UUID(admin["organization_id"])
    await admin_conn.execute("update organizations set timezone = $2 where id = $1", org_id, ZONE)
    patient = await create_patient(
        admin_conn, org_id, display_name="Nora Night", contacts={"sms": "+14155550901"}
    )
    booked = datetime.now(UTC) + timedelta(days=3)
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        org_id,
        patient["id"],
        booked,
    )
    night = next_change(datetime.now(UTC).date(), 2, skipped=True)
    autumn = next_change(datetime.now(UTC).date(), 1, skipped=False)
    # A message at the second 01:30 of the autumn night (an hour after the first, in winter
    # time): on the patient's page it and the one scheduled at the first 01:30 read "01:30",
    # with nothing to tell them apart, before their zone was named.
    second = datetime(autumn.year, autumn.month, autumn.day, 1, 30, fold=1, tzinfo=ZoneInfo(ZONE))
    await admin_conn.execute(
        "insert into scheduled_messages (organization_id, patient_id, platform, kind,"
        " message_content, scheduled_time) values ($1, $2, 'sms', 'free_text', 'Again', $3)",
        org_id,
        patient["id"],
        second.astimezone(UTC),
    )

    result = run_dashboard_script(
        "clock-change.e2e.mjs",
        db_env=db_env,
        tmp_path=tmp_path,
        script_env={
            "CLINICIAN_EMAIL": "nurse@night.test",
            "CLINICIAN_PASSWORD": "nurse pass 1234",
            "PATIENT_NAME": "Nora Night",
            "SKIPPED": f"{night.isoformat()}T02:30",
            "REAL": f"{night.isoformat()}T03:30",
            "TWICE": f"{autumn.isoformat()}T01:30",
        },
    ).result

    compose = result["compose"]
    assert compose["error"].startswith("Date and time: that time does not exist"), compose
    assert "an hour later than written" in compose["error"]
    assert (compose["invalid"], compose["text_kept"]) == ("true", "See you on Monday")
    assert result["appointment"]["error"].startswith("Starts at: that time does not exist")
    assert result["appointment"]["invalid"] == "true"
    assert "error=reschedule_time_skipped" in result["move"]["url"], result["move"]
    assert result["move"]["error"].startswith("New time: that time does not exist")
    assert (
        await admin_conn.fetchval("select starts_at from appointments where id = $1", appointment)
        == booked
    )
    assert await admin_conn.fetchval("select count(*) from appointments") == 1
    # Only the real time's message: at 03:30 that night, in the clinic's zone; and the one at a
    # time that happens twice at its first (before: the second, an hour later).
    # Which night comes first depends on the date (after mid-March the autumn one does): each
    # is found by its text, not its place.
    sent = {
        r["message_content"]: r["scheduled_time"]
        for r in await admin_conn.fetch(
            "select message_content, scheduled_time from scheduled_messages"
            " where message_content <> 'Again'"
        )
    }
    assert sorted(sent) == ["See you on Monday", "Twice"]
    assert sent["See you on Monday"].astimezone(ZoneInfo(ZONE)).strftime("%H:%M") == "03:30"
    first = datetime(autumn.year, autumn.month, autumn.day, 1, 30, tzinfo=ZoneInfo(ZONE))
    assert sent["Twice"] == first.astimezone(UTC)
    assert result["real_url"].endswith(str(patient["id"]))
    # The two 01:30s of the autumn night, told apart by their zone (the page lists the newest
    # first); the spring night's 03:30 happens once and names none.
    day = f"{autumn.day} {autumn.strftime('%b')} {autumn.year}"
    autumn_shown = [m for m in result["messages"] if m.startswith(f"{day}, ")]
    assert autumn_shown == [f"{day}, 01:30 PST", f"{day}, 01:30 PDT"], result
    spring_day = f"{night.day} {night.strftime('%b')} {night.year}"
    assert f"{spring_day}, 03:30" in result["messages"], result
