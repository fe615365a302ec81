"""Materialization against real Postgres with a controlled ``now``: schedules become doses and
reminders, idempotently; edits, pauses and timezone changes re-plan; DST is exact."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from core.db import Database
from core.settings import Settings
from scheduler.planner import replan_patient, replan_schedule, run_planner_tick
from tests import factories
from tests.planner.conftest import messages

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


async def _times(conn: asyncpg.Connection, patient_id, status: str | None = "pending"):
    return [
        r["scheduled_time"] for r in await messages(conn, patient_id, "medication_reminder", status)
    ]


async def test_tick_materializes_horizon_and_is_idempotent(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"])
    med, schedule = await factories.create_medication(admin_conn, patient["id"])

    first = await run_planner_tick(db.pool, NOW, settings)
    assert (first.doses_created, first.reminders_created) == (4, 4)
    rows = await messages(admin_conn, patient["id"], "medication_reminder")
    assert [r["scheduled_time"] for r in rows] == [
        utc(2026, 3, 2, 8),
        utc(2026, 3, 2, 20),
        utc(2026, 3, 3, 8),
        utc(2026, 3, 3, 20),
    ]
    r = rows[0]
    assert r["idempotency_key"] == f"dose:{schedule['id']}:2026-03-02:08:00:00:v1"
    assert (r["platform"], r["priority"], r["message_content"]) == ("auto", 1, None)
    assert r["expires_at"] == utc(2026, 3, 2, 10)
    assert r["organization_id"] == org["id"]
    dose = await admin_conn.fetchrow("select * from dose_events where id = $1", r["dose_event_id"])
    assert (dose["status"], dose["local_date"], dose["local_time"]) == (
        "due",
        date(2026, 3, 2),
        time(8, 0),
    )
    assert r["payload"] == {
        "dose_event_id": str(dose["id"]),
        "medication_id": str(med["id"]),
        "schedule_id": str(schedule["id"]),
        "local_date": "2026-03-02",
        "local_time": "08:00",
        "timezone": "UTC",
    }

    # Running again, or a minute later, creates nothing.
    again = await run_planner_tick(db.pool, NOW, settings)
    later = await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
    assert (again.doses_created, again.reminders_created, again.schedules_planned) == (0, 0, 0)
    assert (later.doses_created, later.reminders_created) == (0, 0)
    # An hour on the plan is topped up to the horizon again: one more dose (Mar 4, 08:00).
    extended = await run_planner_tick(db.pool, NOW + timedelta(hours=1, minutes=1), settings)
    assert (extended.schedules_planned, extended.reminders_created) == (1, 1)
    assert len(await _times(admin_conn, patient["id"])) == 5
    assert await admin_conn.fetchval("select count(*) from dose_events") == 5


async def test_only_active_consented_unpaused_patients_are_planned(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    unconsented = await factories.create_patient(admin_conn, org["id"], consent_at=None)
    paused = await factories.create_patient(admin_conn, org["id"], reminders_paused=True)
    invited = await factories.create_patient(admin_conn, org["id"], status="invited")
    ok = await factories.create_patient(admin_conn, org["id"])
    for p in (unconsented, paused, invited, ok):
        await factories.create_medication(admin_conn, p["id"])
    _, paused_schedule = await factories.create_medication(
        admin_conn, ok["id"], schedule={"status": "paused"}
    )
    stats = await run_planner_tick(db.pool, NOW, settings)
    assert stats.reminders_created == 4
    assert await admin_conn.fetchval("select count(distinct patient_id) from dose_events") == 1
    assert (
        await admin_conn.fetchval(
            "select count(*) from dose_events where schedule_id = $1", paused_schedule["id"]
        )
        == 0
    )


async def test_schedule_edit_leaves_no_stale_pending_row(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, org["id"])
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    await run_planner_tick(db.pool, NOW, settings)
    kept = await admin_conn.fetchval(
        "select id from dose_events where due_at = $1", utc(2026, 3, 2, 8)
    )

    # 20:00 moves to 21:30; 08:00 stays. The trigger bumps the version and marks the schedule.
    await admin_conn.execute(
        "update reminder_schedules set times_of_day = '{08:00,21:30}' where id = $1",
        schedule["id"],
    )
    stats = await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
    assert (stats.doses_cancelled, stats.messages_cancelled, stats.reminders_created) == (2, 2, 2)
    assert await _times(admin_conn, patient["id"]) == [
        utc(2026, 3, 2, 8),
        utc(2026, 3, 2, 21, 30),
        utc(2026, 3, 3, 8),
        utc(2026, 3, 3, 21, 30),
    ]
    # The unchanged dose is the same row; the new ones carry the new version in their key.
    assert (
        await admin_conn.fetchval(
            "select id from dose_events where due_at = $1 and status = 'due'", utc(2026, 3, 2, 8)
        )
        == kept
    )
    keys = [
        r["idempotency_key"]
        for r in await messages(admin_conn, patient["id"], "medication_reminder")
    ]
    assert keys[1] == f"dose:{schedule['id']}:2026-03-02:21:30:00:v2"
    cancelled = await admin_conn.fetch(
        "select due_at from dose_events where status = 'cancelled' order by due_at"
    )
    assert [r["due_at"] for r in cancelled] == [utc(2026, 3, 2, 20), utc(2026, 3, 3, 20)]
    assert await _times(admin_conn, patient["id"], "cancelled") == [
        utc(2026, 3, 2, 20),
        utc(2026, 3, 3, 20),
    ]
    # Re-planning explicitly now changes nothing more.
    async with db.pool.acquire() as conn:
        again = await replan_schedule(conn, schedule["id"], NOW + timedelta(minutes=2))
    assert (again.doses_cancelled, again.reminders_created) == (0, 0)

    # Moving back to 20:00 brings the cancelled doses back with a fresh reminder.
    await admin_conn.execute(
        "update reminder_schedules set times_of_day = '{08:00,20:00}' where id = $1",
        schedule["id"],
    )
    async with db.pool.acquire() as conn:
        back = await replan_schedule(conn, schedule["id"], NOW + timedelta(minutes=3))
    assert (back.doses_cancelled, back.doses_created, back.reminders_created) == (2, 2, 2)
    assert await _times(admin_conn, patient["id"]) == [
        utc(2026, 3, 2, 8),
        utc(2026, 3, 2, 20),
        utc(2026, 3, 3, 8),
        utc(2026, 3, 3, 20),
    ]


async def test_pause_stops_future_rows_and_resume_restores_them(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"])
    await factories.create_medication(admin_conn, patient["id"])
    await run_planner_tick(db.pool, NOW, settings)

    await admin_conn.execute(
        "update patients set reminders_paused = true where id = $1", patient["id"]
    )
    paused = await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
    assert (paused.doses_cancelled, paused.messages_cancelled) == (4, 4)
    assert await _times(admin_conn, patient["id"]) == []
    # Paused stays paused: later ticks plan nothing.
    quiet = await run_planner_tick(db.pool, NOW + timedelta(hours=3), settings)
    assert quiet.reminders_created == 0

    await admin_conn.execute(
        "update patients set reminders_paused = false where id = $1", patient["id"]
    )
    resumed = await run_planner_tick(db.pool, NOW + timedelta(hours=3, minutes=1), settings)
    # 08:00 on Mar 2 is past now (10:01): it stays cancelled; the rest come back, plus Mar 4.
    assert await _times(admin_conn, patient["id"]) == [
        utc(2026, 3, 2, 20),
        utc(2026, 3, 3, 8),
        utc(2026, 3, 3, 20),
        utc(2026, 3, 4, 8),
    ]
    assert resumed.reminders_created == 4
    assert await admin_conn.fetchval("select count(*) from dose_events") == 5


async def test_schedule_pause_via_replan_schedule(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, org["id"])
    _, schedule = await factories.create_medication(admin_conn, patient["id"])
    await run_planner_tick(db.pool, NOW, settings)
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "update reminder_schedules set status = 'paused' where id = $1", schedule["id"]
        )
        stats = await replan_schedule(conn, schedule["id"], NOW + timedelta(minutes=5))
    assert stats.messages_cancelled == 4
    assert await _times(admin_conn, patient["id"]) == []


async def test_travel_home_mode_keeps_home_times(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, org["id"], timezone="Europe/Berlin")
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await run_planner_tick(db.pool, NOW, settings)
    # 08:00 in Berlin (CET, UTC+1); the window is (now, now + 48 h].
    assert await _times(admin_conn, patient["id"]) == [utc(2026, 3, 3, 7), utc(2026, 3, 4, 7)]
    assert (
        await admin_conn.fetchval("select home_timezone from patients where id = $1", patient["id"])
        == "Europe/Berlin"
    )
    # A trip to New York: the reminders stay at home time.
    await admin_conn.execute(
        "update patients set timezone = 'America/New_York' where id = $1", patient["id"]
    )
    async with db.pool.acquire() as conn:
        stats = await replan_patient(conn, patient["id"], NOW + timedelta(minutes=1))
    assert (stats.doses_cancelled, stats.reminders_created) == (0, 0)
    assert await _times(admin_conn, patient["id"]) == [utc(2026, 3, 3, 7), utc(2026, 3, 4, 7)]
    # Moving house on purpose: the home zone follows, and so do the reminders (08:00 EST).
    async with db.pool.acquire() as conn:
        moved = await replan_patient(
            conn, patient["id"], NOW + timedelta(minutes=2), move_home=True
        )
    assert (moved.doses_cancelled, moved.reminders_created) == (2, 2)
    assert await _times(admin_conn, patient["id"]) == [utc(2026, 3, 2, 13), utc(2026, 3, 3, 13)]


async def test_travel_follow_mode_replans_in_new_zone(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], timezone="Europe/Berlin", timezone_mode="follow"
    )
    await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await run_planner_tick(db.pool, NOW, settings)
    assert await _times(admin_conn, patient["id"]) == [utc(2026, 3, 3, 7), utc(2026, 3, 4, 7)]
    await admin_conn.execute(
        "update patients set timezone = 'America/New_York' where id = $1", patient["id"]
    )
    # The trigger marked the schedules; the next tick re-plans at 08:00 New York time.
    stats = await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
    assert (stats.doses_cancelled, stats.reminders_created) == (2, 2)
    assert await _times(admin_conn, patient["id"]) == [utc(2026, 3, 2, 13), utc(2026, 3, 3, 13)]
    rows = await messages(admin_conn, patient["id"], "medication_reminder")
    assert rows[0]["payload"]["timezone"] == "America/New_York"


async def test_schedule_with_its_own_timezone_ignores_travel(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(
        admin_conn, org["id"], timezone="America/New_York", timezone_mode="follow"
    )
    await factories.create_medication(
        admin_conn,
        patient["id"],
        times=(time(8, 0),),
        schedule={"timezone": "Asia/Kolkata"},
    )
    await run_planner_tick(db.pool, NOW, settings)
    # 08:00 IST = 02:30 UTC.
    assert await _times(admin_conn, patient["id"]) == [
        utc(2026, 3, 3, 2, 30),
        utc(2026, 3, 4, 2, 30),
    ]


async def test_dst_spring_forward_and_fall_back_through_the_materializer(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"], timezone="America/New_York")
    _, schedule = await factories.create_medication(
        admin_conn, patient["id"], times=(time(1, 30), time(2, 30), time(8, 0))
    )
    # Spring forward, 2026-03-08: 02:30 does not exist and fires at 03:00 EDT (07:00 UTC).
    await run_planner_tick(db.pool, utc(2026, 3, 7, 12), settings)
    rows = await admin_conn.fetch(
        "select due_at, local_date, local_time from dose_events order by due_at"
    )
    assert [(r["due_at"], r["local_date"], r["local_time"]) for r in rows] == [
        (utc(2026, 3, 7, 13), date(2026, 3, 7), time(8, 0)),  # EST, UTC-5
        (utc(2026, 3, 8, 6, 30), date(2026, 3, 8), time(1, 30)),  # still EST
        (utc(2026, 3, 8, 7), date(2026, 3, 8), time(2, 30)),  # the gap: 03:00 EDT
        (utc(2026, 3, 8, 12), date(2026, 3, 8), time(8, 0)),  # EDT, UTC-4
        (utc(2026, 3, 9, 5, 30), date(2026, 3, 9), time(1, 30)),
        (utc(2026, 3, 9, 6, 30), date(2026, 3, 9), time(2, 30)),
        (utc(2026, 3, 9, 12), date(2026, 3, 9), time(8, 0)),
    ]
    keys = {
        r["idempotency_key"]
        for r in await messages(admin_conn, patient["id"], "medication_reminder")
    }
    assert f"dose:{schedule['id']}:2026-03-08:02:30:00:v1" in keys
    assert len(keys) == 7

    # Fall back, 2026-11-01: 01:30 happens twice and fires once, at the first (EDT, 05:30 UTC).
    await admin_conn.execute("delete from dose_events")
    await admin_conn.execute("update reminder_schedules set planned_until = null")
    await run_planner_tick(db.pool, utc(2026, 10, 31, 12), settings)
    rows = await admin_conn.fetch(
        "select due_at, local_time from dose_events where local_date = '2026-11-01' order by due_at"
    )
    assert [(r["due_at"], r["local_time"]) for r in rows] == [
        (utc(2026, 11, 1, 5, 30), time(1, 30)),
        (utc(2026, 11, 1, 7, 30), time(2, 30)),  # EST from here, UTC-5
        (utc(2026, 11, 1, 13), time(8, 0)),
    ]
    assert await admin_conn.fetchval("select count(*) from dose_events") == 5


async def test_concurrent_ticks_create_each_row_once(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    for _ in range(3):
        patient = await factories.create_patient(admin_conn, org["id"])
        await factories.create_medication(admin_conn, patient["id"])
    results = await asyncio.gather(*(run_planner_tick(db.pool, NOW, settings) for _ in range(3)))
    assert sum(r.reminders_created for r in results) == 12
    assert await admin_conn.fetchval("select count(*) from dose_events") == 12
    assert (
        await admin_conn.fetchval(
            "select count(*) from scheduled_messages where kind = 'medication_reminder'"
        )
        == 12
    )


async def test_unplannable_schedule_is_reported_not_fatal(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"])
    # Every 7 days from Thursday 1 January can never fall on a Tuesday.
    await factories.create_medication(
        admin_conn, patient["id"], schedule={"every_n_days": 7, "days_of_week": [2]}
    )
    await factories.create_medication(admin_conn, patient["id"])
    stats = await run_planner_tick(db.pool, NOW, settings)
    assert (stats.errors, stats.reminders_created) == (1, 4)
    again = await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
    assert (again.errors, again.reminders_created) == (0, 0)


async def test_medication_paused_or_schedule_ended_stops_rows(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    patient = await factories.create_patient(admin_conn, org["id"])
    med, _ = await factories.create_medication(admin_conn, patient["id"])
    _, ending = await factories.create_medication(
        admin_conn, patient["id"], times=(time(12, 0),), schedule={"end_date": date(2026, 3, 2)}
    )
    await run_planner_tick(db.pool, NOW, settings)
    # The second schedule ends today: only its 12:00 dose today.
    assert (
        await admin_conn.fetchval(
            "select count(*) from dose_events where schedule_id = $1", ending["id"]
        )
        == 1
    )
    await admin_conn.execute("update medications set status = 'paused' where id = $1", med["id"])
    stats = await run_planner_tick(db.pool, NOW + timedelta(minutes=1), settings)
    assert stats.messages_cancelled == 4
    assert await _times(admin_conn, patient["id"]) == [utc(2026, 3, 2, 12)]


async def test_moving_west_does_not_plan_a_days_dose_again_without_a_reminder(
    db: Database, settings: Settings, admin_conn: asyncpg.Connection, org
) -> None:
    """Found by tests/web/test_clinic_and_patient_stateful.py: the clinic moves a Berlin patient
    to New York after their 08:00 dose was reminded. 08:00 of that date is still ahead in New
    York; the re-plan made a second dose for it, whose reminder's key (schedule, local date and
    time) was the sent one's, so it got no reminder, was never missed and stayed 'due' forever.
    A date's dose at a time of day is planned once, wherever the patient is."""
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, org["id"], timezone="Europe/Berlin")
    _, schedule = await factories.create_medication(admin_conn, patient["id"], times=(time(8, 0),))
    await run_planner_tick(db.pool, utc(2026, 3, 2, 6), settings)
    # 08:00 in Berlin is 07:00 UTC: reminded.
    await admin_conn.execute(
        "update scheduled_messages set status = 'sent', sent_at = $2"
        " where patient_id = $1 and scheduled_time = $2",
        patient["id"],
        utc(2026, 3, 2, 7),
    )
    await admin_conn.execute(
        "update patients set timezone = 'America/New_York' where id = $1", patient["id"]
    )
    async with db.pool.acquire() as conn:
        await replan_patient(conn, patient["id"], utc(2026, 3, 2, 7, 30), move_home=True)

    doses = await admin_conn.fetch(
        "select local_date, due_at from dose_events where schedule_id = $1"
        " and status <> 'cancelled' order by due_at",
        schedule["id"],
    )
    # The 2nd's dose stays the one reminded in Berlin; New York's 08:00 EST from the 3rd on
    # (the window ends 48 hours after the move).
    assert [(d["local_date"], d["due_at"]) for d in doses] == [
        (date(2026, 3, 2), utc(2026, 3, 2, 7)),
        (date(2026, 3, 3), utc(2026, 3, 3, 13)),
    ]
    unreminded = await admin_conn.fetchval(
        """select count(*) from dose_events d
            where d.schedule_id = $1 and d.status = 'due'
              and not exists (select 1 from scheduled_messages m
                               where m.dose_event_id = d.id and m.kind = 'medication_reminder')""",
        schedule["id"],
    )
    assert unreminded == 0
