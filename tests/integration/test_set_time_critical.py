"""``public.set_time_critical`` (migration 20260101010750): the one statement the API and the
dashboard both use to mark a medication time-critical. Called here as the dashboard calls it (role
``authenticated`` with the clinician's JWT): row-level security keeps it to the clinician's clinic,
the planned reminder follows, and the audit row names the clinician."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from tests import factories
from tests.integration.clinician import as_clinician

CALL = "select name, time_critical from set_time_critical($1, $2, $3)"


async def _routine_reminder(
    conn: asyncpg.Connection, dose: asyncpg.Record, at: datetime
) -> asyncpg.Record:
    """A pending routine reminder of ``dose``, planned at ``at``."""
    return await factories.create_message(
        conn,
        dose["patient_id"],
        kind="medication_reminder",
        dose_event_id=dose["id"],
        scheduled_time=at,
        priority=1,
    )


async def test_a_clinician_marks_their_clinics_medication_and_no_other(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    other_org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    stranger = await factories.create_clinician(admin_conn, other_org["id"])
    patient = await factories.create_patient(admin_conn, org["id"])
    medication, schedule = await factories.create_medication(admin_conn, patient["id"])
    due = datetime(2030, 1, 2, 8, 0, tzinfo=UTC)
    dose = await factories.create_dose_event(admin_conn, schedule, due)
    # A routine reminder the planner moved ten minutes early.
    reminder = await _routine_reminder(admin_conn, dose, due - timedelta(minutes=10))
    # The next dose's reminder, snoozed by the patient past its time: it keeps its time.
    next_due = due + timedelta(hours=12)
    next_dose = await factories.create_dose_event(admin_conn, schedule, next_due)
    snoozed = await _routine_reminder(admin_conn, next_dose, next_due + timedelta(minutes=30))
    last_audit = await admin_conn.fetchval("select coalesce(max(id), 0) from audit_log")

    # Another clinic's clinician: no row, nothing changed (RLS hides the medication).
    async with as_clinician(admin_conn, stranger["id"]) as conn:
        assert await conn.fetch(CALL, medication["id"], patient["id"], True) == []
    assert not await admin_conn.fetchval(
        "select time_critical from medications where id = $1", medication["id"]
    )

    async with as_clinician(admin_conn, clinician["id"]) as conn:
        # The wrong patient: no row.
        assert await conn.fetch(CALL, medication["id"], stranger["id"], True) == []
        row = await conn.fetchrow(CALL, medication["id"], patient["id"], True)
    assert row is not None and row["name"] == medication["name"] and row["time_critical"]
    planned = await admin_conn.fetchrow(
        "select priority, scheduled_time from scheduled_messages where id = $1", reminder["id"]
    )
    assert (planned["priority"], planned["scheduled_time"]) == (0, due)
    later = await admin_conn.fetchrow(
        "select priority, scheduled_time from scheduled_messages where id = $1", snoozed["id"]
    )
    assert (later["priority"], later["scheduled_time"]) == (0, next_due + timedelta(minutes=30))
    audit = await admin_conn.fetch(
        "select actor, action, entity_id from audit_log where id > $1 order by id", last_audit
    )
    # The medication and its reminders, all in the clinician's name.
    assert {(a["actor"], a["action"], a["entity_id"]) for a in audit} == {
        (f"clinician:{clinician['id']}", "medication.changed", str(medication["id"])),
        (f"clinician:{clinician['id']}", "message.changed", str(reminder["id"])),
        (f"clinician:{clinician['id']}", "message.changed", str(snoozed["id"])),
    }

    # Routine again: priority 1, the dose's own time kept.
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        row = await conn.fetchrow(CALL, medication["id"], patient["id"], False)
    assert row is not None and not row["time_critical"]
    assert (
        await admin_conn.fetchval(
            "select priority from scheduled_messages where id = $1", reminder["id"]
        )
        == 1
    )


async def test_the_function_runs_with_the_callers_rights(admin_conn: asyncpg.Connection) -> None:
    definer = await admin_conn.fetchval(
        "select prosecdef from pg_proc where oid = 'public.set_time_critical(uuid, uuid, boolean)'"
        "::regprocedure"
    )
    assert definer is False
