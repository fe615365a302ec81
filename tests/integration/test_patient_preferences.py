"""A patient's opt-out is never overridden by a clinic (issue 17), enforced by the database.

Acting as the dashboard does (role ``authenticated`` with a clinician's JWT claims), a clinician
of the patient's own clinic cannot write the patient's choice, nor delete the row that holds it;
the clinic's own choice is stored but the patient's wins; another clinic sees and writes nothing.
Every change is audited with who made it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


async def _opted_out(conn: asyncpg.Connection, patient_id: object, category: str) -> bool:
    return await conn.fetchval("select public.patient_opted_out($1, $2)", patient_id, category)


async def test_clinic_cannot_override_a_patients_opt_out(admin_conn: asyncpg.Connection) -> None:
    org = await factories.create_organization(admin_conn)
    other = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    stranger = await factories.create_clinician(admin_conn, other["id"])
    patient = await factories.create_patient(admin_conn, org["id"])
    # The patient opts out of appointment messages in the bot (the service role's write).
    await admin_conn.execute(
        "insert into patient_preferences (patient_id, category, patient_choice, patient_chose_at)"
        " values ($1, 'appointments', 'out', $2)",
        patient["id"],
        NOW,
    )
    assert await _opted_out(admin_conn, patient["id"], "appointments")

    # The dashboard's role cannot write the patient's column at all...
    for statement in (
        "update patient_preferences set patient_choice = 'in' where patient_id = $1",
        "update patient_preferences set patient_choice = null where patient_id = $1",
        "delete from patient_preferences where patient_id = $1",
        "insert into patient_preferences (patient_id, category, patient_choice)"
        " values ($1, 'medication', 'in')",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with as_clinician(admin_conn, clinician["id"]) as conn:
                await conn.execute(statement, patient["id"])

    # ...and the clinic's own choice ("in") is stored, but the patient's "out" still wins.
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await conn.execute(
            "insert into patient_preferences (patient_id, category, clinic_choice, channel)"
            " values ($1, 'appointments', 'in', 'sms')"
            " on conflict (patient_id, category)"
            " do update set clinic_choice = excluded.clinic_choice, channel = excluded.channel",
            patient["id"],
        )
        row = await conn.fetchrow(
            "select patient_choice, clinic_choice, channel from patient_preferences"
            " where patient_id = $1 and category = 'appointments'",
            patient["id"],
        )
        assert dict(row) == {"patient_choice": "out", "clinic_choice": "in", "channel": "sms"}
        assert await _opted_out(conn, patient["id"], "appointments")
        # A category the patient never chose: the clinic may opt the patient out of it.
        await conn.execute(
            "insert into patient_preferences (patient_id, category, clinic_choice)"
            " values ($1, 'clinic_news', 'out')",
            patient["id"],
        )
        assert await _opted_out(conn, patient["id"], "clinic_news")
    assert await _opted_out(admin_conn, patient["id"], "appointments")

    # Another clinic sees none of it and cannot write any of it.
    async with as_clinician(admin_conn, stranger["id"]) as conn:
        seen = await conn.fetchval("select count(*) from patient_preferences")
        assert seen == 0
        changed = await conn.execute(
            "update patient_preferences set clinic_choice = 'in' where patient_id = $1",
            patient["id"],
        )
        assert changed == "UPDATE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, stranger["id"]) as conn:
            await conn.execute(
                "insert into patient_preferences (patient_id, category, clinic_choice)"
                " values ($1, 'medication', 'out')",
                patient["id"],
            )

    # Audited: the patient's choice, then the clinician's two changes, by whom.
    audit = await admin_conn.fetch(
        "select actor, details from audit_log where action = 'preference.changed'"
        " and entity_id = $1 order by id",
        str(patient["id"]),
    )
    assert [a["actor"] for a in audit] == [
        "patient",
        f"clinician:{clinician['id']}",
        f"clinician:{clinician['id']}",
    ]
    assert audit[1]["details"]["previous"]["clinic_choice"] is None


async def test_a_clinic_change_of_offsets_or_choice_replans_upcoming_reminders(
    admin_conn: asyncpg.Connection,
) -> None:
    """The dashboard writes rows only: the trigger marks the patient's upcoming appointments, and
    the planner tick plans their reminders again (standing offsets, then an opt-out)."""
    from scheduler.appointments import plan_appointment, sync_appointments

    now = datetime.now(UTC)  # the trigger compares with the database's clock
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    patient = await factories.create_patient(admin_conn, org["id"])
    # At noon (UTC, the patient's zone), whatever the hour now: booked 3 days from a time before
    # 02:00, the 24 h and 2 h reminders fell on one day and the clinic's cap of one reminder a
    # day held the second back (failed between 00:00 and 02:00 UTC).
    starts_at = datetime.combine((now + timedelta(days=3)).date(), time(12), UTC)
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        org["id"],
        patient["id"],
        starts_at,
    )
    await plan_appointment(admin_conn, appointment, now)

    async def pending_offsets() -> list[int]:
        rows = await admin_conn.fetch(
            "select (payload->>'offset_minutes')::int as o from scheduled_messages"
            " where appointment_id = $1 and kind = 'appointment_reminder' and status = 'pending'"
            " order by 1",
            appointment,
        )
        return [r["o"] for r in rows]

    assert await pending_offsets() == [120, 1440]  # the clinic's default
    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await conn.execute(
            "update patients set appointment_reminder_offsets = '{30, 2880}' where id = $1",
            patient["id"],
        )
    assert await admin_conn.fetchval(
        "select reminders_stale from appointments where id = $1", appointment
    )
    assert await sync_appointments(admin_conn, now) == 1
    assert await pending_offsets() == [30, 2880]
    assert not await admin_conn.fetchval(
        "select reminders_stale from appointments where id = $1", appointment
    )

    async with as_clinician(admin_conn, clinician["id"]) as conn:
        await conn.execute(
            "insert into patient_preferences (patient_id, category, clinic_choice)"
            " values ($1, 'appointments', 'out')",
            patient["id"],
        )
    await sync_appointments(admin_conn, now)
    assert await pending_offsets() == []
