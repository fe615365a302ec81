"""Dose answers against real Postgres: one effect per answer, pending rows cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.answer_buttons import QUESTION_TTL
from core.db import Database
from scheduler.dose_answers import find_dose_for_message, record_dose_answer
from tests import factories
from tests.planner.conftest import make_dose

DUE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def dose_setup(admin_conn: asyncpg.Connection, org: asyncpg.Record):
    patient = await factories.create_patient(admin_conn, org["id"])
    med, schedule = await factories.create_medication(
        admin_conn, patient["id"], pill_count=10, pills_per_dose=2
    )
    dose, reminder = await make_dose(admin_conn, schedule, DUE, reminder_status="sent")
    nag = await factories.create_message(
        admin_conn,
        patient["id"],
        kind="dose_followup",
        message_content=None,
        scheduled_time=DUE + timedelta(minutes=15),
        dose_event_id=dose["id"],
        idempotency_key=f"nag:{dose['id']}:0:1",
    )
    return patient, med, dose, reminder, nag


async def _status(conn: asyncpg.Connection, table: str, row_id) -> str:
    return await conn.fetchval(f"select status from {table} where id = $1", row_id)


async def test_taken_twice_counts_pills_once_and_cancels_nags(
    db: Database, admin_conn: asyncpg.Connection, dose_setup
) -> None:
    assert db.pool is not None
    _, med, dose, reminder, nag = dose_setup
    at = DUE + timedelta(minutes=3)
    async with db.pool.acquire() as conn:
        first = await record_dose_answer(conn, dose["id"], "taken", channel="telegram", at=at)
        second = await record_dose_answer(conn, dose["id"], "taken", channel="sms", at=at)
        assert await find_dose_for_message(conn, reminder["id"]) == dose["id"]
    assert (first.status, first.pill_count_left, first.already_answered) == ("taken", 8, False)
    assert (second.status, second.pill_count_left, second.already_answered) == ("taken", 8, True)
    assert (
        await admin_conn.fetchval("select pill_count from medications where id = $1", med["id"])
        == 8
    )
    assert await _status(admin_conn, "scheduled_messages", nag["id"]) == "cancelled"
    assert await _status(admin_conn, "scheduled_messages", reminder["id"]) == "sent"
    row = await admin_conn.fetchrow("select * from dose_events where id = $1", dose["id"])
    assert (row["status"], row["answered_at"], row["answered_channel"]) == ("taken", at, "telegram")


async def test_pill_count_never_below_zero(
    db: Database, admin_conn: asyncpg.Connection, dose_setup
) -> None:
    assert db.pool is not None
    _, med, dose, _, _ = dose_setup
    await admin_conn.execute("update medications set pill_count = 1 where id = $1", med["id"])
    async with db.pool.acquire() as conn:
        result = await record_dose_answer(conn, dose["id"], "taken", channel="sms", at=DUE)
    assert result.pill_count_left == 0


async def test_late_answer_on_missed_dose_counts(
    db: Database, admin_conn: asyncpg.Connection, dose_setup
) -> None:
    assert db.pool is not None
    _, _, dose, _, _ = dose_setup
    await admin_conn.execute("update dose_events set status = 'missed' where id = $1", dose["id"])
    async with db.pool.acquire() as conn:
        result = await record_dose_answer(
            conn, dose["id"], "skipped", channel="sms", at=DUE + timedelta(hours=5)
        )
        again = await record_dose_answer(
            conn, dose["id"], "taken", channel="sms", at=DUE + timedelta(hours=6)
        )
    assert (result.status, result.already_answered, result.pill_count_left) == (
        "skipped",
        False,
        10,
    )
    # The first final answer stands.
    assert (again.status, again.already_answered, again.pill_count_left) == ("skipped", True, 10)


async def test_snooze_creates_one_reminder_and_cancels_pending(
    db: Database, admin_conn: asyncpg.Connection, dose_setup
) -> None:
    assert db.pool is not None
    _, _, dose, _, nag = dose_setup
    at = DUE + timedelta(minutes=5)
    async with db.pool.acquire() as conn:
        first = await record_dose_answer(
            conn, dose["id"], "snoozed", channel="telegram", at=at, snooze_minutes=30
        )
        second = await record_dose_answer(
            conn, dose["id"], "snoozed", channel="telegram", at=at, snooze_minutes=30
        )
    assert first.snoozed_until == DUE + timedelta(minutes=35)
    assert (first.already_answered, second.already_answered) == (False, True)
    rows = await admin_conn.fetch(
        "select * from scheduled_messages where dose_event_id = $1 and kind = 'medication_reminder'"
        " order by scheduled_time",
        dose["id"],
    )
    assert [(r["status"], r["scheduled_time"]) for r in rows] == [
        ("sent", DUE),
        ("pending", DUE + timedelta(minutes=35)),
    ]
    snoozed = rows[1]
    assert snoozed["expires_at"] == DUE + timedelta(minutes=35, hours=2)
    assert snoozed["priority"] == 1
    assert snoozed["payload"]["dose_event_id"] == str(dose["id"])
    assert snoozed["payload"]["snoozed_until"] == (DUE + timedelta(minutes=35)).isoformat()
    assert await _status(admin_conn, "scheduled_messages", nag["id"]) == "cancelled"
    # Taken after a snooze cancels the snoozed reminder.
    async with db.pool.acquire() as conn:
        taken = await record_dose_answer(conn, dose["id"], "taken", channel="sms", at=at)
    assert taken.status == "taken"
    assert await _status(admin_conn, "scheduled_messages", snoozed["id"]) == "cancelled"


async def test_snooze_past_the_question_ttl_is_refused_and_taken_still_counts(
    db: Database, admin_conn: asyncpg.Connection, dose_setup
) -> None:
    """12 hours after the dose's time a snooze still moves it; a second later it changes nothing
    (``too_late``): its reminder would come back as another day's dose. Taken counts then."""
    assert db.pool is not None
    _, _, dose, _, _ = dose_setup
    limit = DUE + QUESTION_TTL
    pending = (
        "select count(*) from scheduled_messages where dose_event_id = $1 and status = 'pending'"
    )
    before = await admin_conn.fetchval(pending, dose["id"])
    async with db.pool.acquire() as conn:
        late = await record_dose_answer(
            conn, dose["id"], "snoozed", channel="telegram", at=limit + timedelta(seconds=1)
        )
        assert (late.too_late, late.already_answered, late.status) == (True, True, "due")
        assert late.snoozed_until is None
        assert await admin_conn.fetchval(pending, dose["id"]) == before
        in_time = await record_dose_answer(
            conn, dose["id"], "snoozed", channel="telegram", at=limit
        )
        assert (in_time.too_late, in_time.status) == (False, "snoozed")
        taken = await record_dose_answer(
            conn, dose["id"], "taken", channel="telegram", at=DUE + timedelta(days=2)
        )
    assert (taken.status, taken.already_answered) == ("taken", False)


async def test_answer_inside_callers_transaction_rolls_back_with_it(
    db: Database, admin_conn: asyncpg.Connection, dose_setup
) -> None:
    assert db.pool is not None
    _, _, dose, _, nag = dose_setup
    async with db.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await record_dose_answer(conn, dose["id"], "taken", channel="sms", at=DUE)
        await tx.rollback()
    assert await _status(admin_conn, "dose_events", dose["id"]) == "due"
    assert await _status(admin_conn, "scheduled_messages", nag["id"]) == "pending"


async def test_unknown_dose_and_bad_input(db: Database) -> None:
    assert db.pool is not None
    import uuid

    async with db.pool.acquire() as conn:
        with pytest.raises(LookupError):
            await record_dose_answer(conn, uuid.uuid4(), "taken", channel="sms", at=DUE)
        with pytest.raises(ValueError, match="snooze_minutes"):
            await record_dose_answer(
                conn, uuid.uuid4(), "snoozed", channel="sms", at=DUE, snooze_minutes=0
            )
        with pytest.raises(ValueError, match="naive"):
            await record_dose_answer(
                conn, uuid.uuid4(), "taken", channel="sms", at=DUE.replace(tzinfo=None)
            )
