"""Appointment confirmations, reminders, reschedules, cancellations, replies and caps, at exact
times against real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from core.db import Database
from scheduler.appointments import (
    cancel_appointment,
    cap_window,
    plan_appointment,
    record_appointment_reply,
    reschedule_appointment,
)
from tests import factories
from tests.planner.conftest import messages

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
STARTS = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)  # Thursday


async def _appointment(
    conn: asyncpg.Connection, org_id, patient_id, starts_at: datetime = STARTS, **extra: Any
) -> asyncpg.Record:
    values = {"organization_id": org_id, "patient_id": patient_id, "starts_at": starts_at} | extra
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    return await conn.fetchrow(
        f"insert into appointments ({columns}) values ({params}) returning *", *values.values()
    )


async def _times(conn: asyncpg.Connection, patient_id, kind: str = "appointment_reminder"):
    return [r["scheduled_time"] for r in await messages(conn, patient_id, kind)]


@pytest.fixture
async def patient(admin_conn: asyncpg.Connection, org) -> asyncpg.Record:
    return await factories.create_patient(admin_conn, org["id"], timezone="America/New_York")


async def test_booking_confirms_and_reminds_at_org_offsets(
    db: Database, admin_conn: asyncpg.Connection, org, patient
) -> None:
    assert db.pool is not None
    appt = await _appointment(admin_conn, org["id"], patient["id"])
    async with db.pool.acquire() as conn:
        plan = await plan_appointment(conn, appt["id"], NOW)
        again = await plan_appointment(conn, appt["id"], NOW + timedelta(minutes=5))
    assert (plan.confirmation_created, plan.reminders_created) == (True, 2)
    assert (again.confirmation_created, again.reminders_created, again.skipped_capped) == (
        False,
        0,
        0,
    )
    assert await _times(admin_conn, patient["id"], "appointment_confirmation") == [NOW]
    # 24 h and 2 h before.
    assert await _times(admin_conn, patient["id"]) == [
        STARTS - timedelta(hours=24),
        STARTS - timedelta(hours=2),
    ]
    reminder = (await messages(admin_conn, patient["id"], "appointment_reminder"))[0]
    assert reminder["payload"] == {"appointment_id": str(appt["id"]), "offset_minutes": 1440}
    assert (reminder["appointment_id"], reminder["expires_at"], reminder["priority"]) == (
        appt["id"],
        STARTS,
        3,
    )


async def test_patient_offsets_override_and_past_times_are_skipped(
    db: Database, admin_conn: asyncpg.Connection, org, patient
) -> None:
    assert db.pool is not None
    soon = NOW + timedelta(hours=3)
    appt = await _appointment(
        admin_conn, org["id"], patient["id"], soon, reminder_offsets=[10080, 1440, 60]
    )
    async with db.pool.acquire() as conn:
        plan = await plan_appointment(conn, appt["id"], NOW)
    # A week and a day before are already past; only the hour before is left.
    assert (plan.reminders_created, plan.skipped_past) == (1, 2)
    assert await _times(admin_conn, patient["id"]) == [soon - timedelta(hours=1)]


async def test_reschedule_moves_reminders_and_notifies(
    db: Database, admin_conn: asyncpg.Connection, org, patient
) -> None:
    assert db.pool is not None
    appt = await _appointment(admin_conn, org["id"], patient["id"])
    async with db.pool.acquire() as conn:
        await plan_appointment(conn, appt["id"], NOW)
        await record_appointment_reply(conn, appt["id"], "confirm", NOW + timedelta(minutes=1))
        new_start = STARTS + timedelta(days=7)
        plan = await reschedule_appointment(conn, appt["id"], new_start, NOW + timedelta(hours=1))
    assert (plan.status, plan.notice_created, plan.reminders_created) == ("scheduled", True, 2)
    # The two old reminders are withdrawn (the unsent confirmation request went with the
    # patient's reply).
    assert plan.messages_cancelled == 2
    assert await _times(admin_conn, patient["id"]) == [
        new_start - timedelta(hours=24),
        new_start - timedelta(hours=2),
    ]
    cancelled = await messages(admin_conn, patient["id"], "appointment_reminder", "cancelled")
    assert [r["scheduled_time"] for r in cancelled] == [
        STARTS - timedelta(hours=24),
        STARTS - timedelta(hours=2),
    ]
    notice = (await messages(admin_conn, patient["id"], "appointment_rescheduled"))[0]
    assert notice["scheduled_time"] == NOW + timedelta(hours=1)
    assert notice["payload"]["previous_starts_at"] == STARTS.isoformat()
    row = await admin_conn.fetchrow("select * from appointments where id = $1", appt["id"])
    assert (row["starts_at"], row["status"]) == (new_start, "scheduled")

    # Back to the first time: those reminders come back, with one more notice.
    async with db.pool.acquire() as conn:
        back = await reschedule_appointment(conn, appt["id"], STARTS, NOW + timedelta(hours=2))
    # The two reminders for the second time and the still unsent first notice are withdrawn.
    assert (back.notice_created, back.reminders_created, back.messages_cancelled) == (True, 2, 3)
    assert await _times(admin_conn, patient["id"]) == [
        STARTS - timedelta(hours=24),
        STARTS - timedelta(hours=2),
    ]
    notices = await messages(admin_conn, patient["id"], "appointment_rescheduled", None)
    assert [n["status"] for n in notices] == ["cancelled", "pending"]


async def test_same_time_with_new_offsets_replans_without_notice(
    db: Database, admin_conn: asyncpg.Connection, org, patient
) -> None:
    assert db.pool is not None
    appt = await _appointment(admin_conn, org["id"], patient["id"])
    async with db.pool.acquire() as conn:
        await plan_appointment(conn, appt["id"], NOW)
        await conn.execute(
            "update appointments set reminder_offsets = '{30}' where id = $1", appt["id"]
        )
        plan = await reschedule_appointment(conn, appt["id"], STARTS, NOW)
    assert (plan.notice_created, plan.messages_cancelled, plan.reminders_created) == (False, 2, 1)
    assert await _times(admin_conn, patient["id"]) == [STARTS - timedelta(minutes=30)]
    assert len(await messages(admin_conn, patient["id"], "appointment_confirmation")) == 1


async def test_cancel_withdraws_everything_and_notifies_once(
    db: Database, admin_conn: asyncpg.Connection, org, patient
) -> None:
    assert db.pool is not None
    appt = await _appointment(admin_conn, org["id"], patient["id"])
    async with db.pool.acquire() as conn:
        await plan_appointment(conn, appt["id"], NOW)
        plan = await cancel_appointment(conn, appt["id"], NOW + timedelta(hours=1))
        again = await cancel_appointment(conn, appt["id"], NOW + timedelta(hours=2))
    assert (plan.notice_created, plan.messages_cancelled) == (True, 3)
    assert (again.notice_created, again.messages_cancelled) == (False, 0)
    assert await _times(admin_conn, patient["id"]) == []
    assert await _times(admin_conn, patient["id"], "appointment_cancelled") == [
        NOW + timedelta(hours=1)
    ]
    assert (
        await admin_conn.fetchval("select status from appointments where id = $1", appt["id"])
        == "cancelled"
    )
    with pytest.raises(ValueError, match="cancelled"):
        async with db.pool.acquire() as conn:
            await reschedule_appointment(conn, appt["id"], STARTS, NOW)


async def test_patient_replies_update_status(
    db: Database, admin_conn: asyncpg.Connection, org, patient
) -> None:
    assert db.pool is not None
    appt = await _appointment(admin_conn, org["id"], patient["id"])
    async with db.pool.acquire() as conn:
        await plan_appointment(conn, appt["id"], NOW)
        assert await record_appointment_reply(conn, appt["id"], "confirm", NOW) == "confirmed"
        assert (
            await record_appointment_reply(conn, appt["id"], "reschedule", NOW)
            == "reschedule_requested"
        )
        # Reminders stay until the clinic actually moves it.
        assert len(await _times(admin_conn, patient["id"])) == 2
        assert await record_appointment_reply(conn, appt["id"], "cancel", NOW) == "cancelled"
        assert await record_appointment_reply(conn, appt["id"], "confirm", NOW) == "cancelled"
    assert await _times(admin_conn, patient["id"]) == []
    # No notice for the patient's own cancellation; every reply audited.
    assert await _times(admin_conn, patient["id"], "appointment_cancelled") == []
    actions = await admin_conn.fetch(
        "select action from audit_log where entity_id = $1 order by id", str(appt["id"])
    )
    assert [a["action"] for a in actions] == [
        "appointment.confirm",
        "appointment.reschedule",
        "appointment.cancel",
    ]


async def test_caps_per_day_and_week_hold_and_are_audited(
    db: Database, admin_conn: asyncpg.Connection, org, patient
) -> None:
    # Defaults: at most 1 appointment reminder a day and 3 a week per patient.
    assert db.pool is not None
    await admin_conn.execute(
        "update organizations set appointment_reminder_offsets = '{1440,120}' where id = $1",
        org["id"],
    )
    # Two appointments on the same Thursday afternoon: the 2 h reminders fall on the same day.
    first = await _appointment(admin_conn, org["id"], patient["id"], STARTS)
    second = await _appointment(admin_conn, org["id"], patient["id"], STARTS + timedelta(hours=2))
    async with db.pool.acquire() as conn:
        a = await plan_appointment(conn, first["id"], NOW)
        b = await plan_appointment(conn, second["id"], NOW)
    assert (a.reminders_created, a.skipped_capped) == (2, 0)
    assert (b.reminders_created, b.skipped_capped) == (0, 2)
    skipped = await admin_conn.fetch(
        "select details from audit_log where action = 'appointment_reminder.capped'"
        " and entity_id = $1 order by id",
        str(second["id"]),
    )
    assert [(s["details"]["cap"], s["details"]["offset_minutes"]) for s in skipped] == [
        ("appointment_per_day", 120),
        ("appointment_per_day", 1440),
    ]
    # A third appointment on Saturday: its Friday and Saturday reminders make 4 in the week.
    third = await _appointment(admin_conn, org["id"], patient["id"], STARTS + timedelta(days=2))
    async with db.pool.acquire() as conn:
        c = await plan_appointment(conn, third["id"], NOW)
    assert (c.reminders_created, c.skipped_capped) == (1, 1)
    assert (
        await admin_conn.fetchval(
            "select details->>'cap' from audit_log where entity_id = $1", str(third["id"])
        )
        == "appointment_per_week"
    )
    times = await _times(admin_conn, patient["id"])
    assert times == [
        STARTS - timedelta(hours=24),
        STARTS - timedelta(hours=2),
        STARTS + timedelta(days=2, hours=-2),
    ]
    # Cancelling the first appointment frees its slots for the next plan.
    async with db.pool.acquire() as conn:
        await cancel_appointment(conn, first["id"], NOW)
        again = await plan_appointment(conn, second["id"], NOW)
    assert again.reminders_created == 2


async def test_unconsented_patient_gets_nothing(
    db: Database, admin_conn: asyncpg.Connection, org
) -> None:
    assert db.pool is not None
    patient = await factories.create_patient(admin_conn, org["id"], consent_at=None)
    appt = await _appointment(admin_conn, org["id"], patient["id"])
    async with db.pool.acquire() as conn:
        plan = await plan_appointment(conn, appt["id"], NOW)
    assert (plan.confirmation_created, plan.reminders_created) == (False, 0)


def test_cap_window_is_local_day_and_monday_week() -> None:
    at = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)  # Saturday 22:00 in New York
    day = cap_window("day", at, "America/New_York")
    week = cap_window("week", at, "America/New_York")
    assert [d.astimezone(UTC) for d in day] == [
        datetime(2026, 3, 7, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 5, 0, tzinfo=UTC),
    ]
    # Monday 2 March 00:00 EST to Monday 9 March 00:00 EDT (the week has 167 hours).
    assert [d.astimezone(UTC) for d in week] == [
        datetime(2026, 3, 2, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize("reply", ["confirm", "reschedule"])
async def test_a_reply_withdraws_the_confirmation_request_not_sent_yet(
    db: Database, admin_conn: asyncpg.Connection, org, patient, reply: str
) -> None:
    """Booked at 22:30, the confirmation request waits for the end of the patient's quiet
    hours; the patient confirms from /appointments (or the app) meanwhile. The request still
    went out in the morning: 'Appointment booked ... Reply 1 or C to confirm' for an appointment
    confirmed hours before (seen in medremind dev). A reply withdraws it; reminders stay."""
    assert db.pool is not None
    appt = await _appointment(admin_conn, org["id"], patient["id"])
    async with db.pool.acquire() as conn:
        await plan_appointment(conn, appt["id"], NOW)
        await record_appointment_reply(conn, appt["id"], reply, NOW)  # type: ignore[arg-type]
    (request,) = await messages(admin_conn, patient["id"], "appointment_confirmation", None)
    assert request["status"] == "cancelled"
    assert request["last_error"] == f"the patient replied ({reply}) before it went out"
    assert len(await _times(admin_conn, patient["id"])) == 2
