"""What may stop a send is logged by transaction (migration 20260101019310, issue 20).

A worker hands rows it claimed ahead to its senders after reading whose rows changed since the
claim's watermark (``dispatch.sql: hold_watermark``, ``hold_changes_since``); only those sends
are checked row by row. So every write that changes what ``hold_at_send`` reads must log its
patient (or caregiver) with a transaction id at or after any watermark read before it wrote,
whoever writes it (a clinician signed in through PostgREST too), and writes of other columns
log nothing (they are most writes: a contact's last inbound, a dose's nag count).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from core.sql import query
from scheduler.send_checks import CHANGES_READ_MAX, SendChecks
from tests import factories
from tests.integration.clinician import as_clinician

DUE = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)


async def _watermark(conn: asyncpg.Connection) -> int:
    mark: int = await conn.fetchval(query("dispatch", "hold_watermark"))
    return mark


async def _changed(conn: asyncpg.Connection, since: int) -> set[UUID]:
    changes = await SendChecks(conn).changed_since(since)  # its ``fetch`` is the pool's
    assert not changes.everything
    return set(changes.patients | changes.caregivers)


async def test_each_write_that_may_stop_a_send_names_its_patient_or_caregiver(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    patient = (
        await factories.create_patient(
            admin_conn, org["id"], contacts={"sms": factories.phone_number()}
        )
    )["id"]
    medication, schedule = await factories.create_medication(admin_conn, patient)
    dose = (await factories.create_dose_event(admin_conn, schedule, DUE))["id"]
    caregiver = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Eva', 'sms', $2) returning id",
        patient,
        factories.phone_number("+1415666"),
    )
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        org["id"],
        patient,
        DUE + timedelta(days=1),
    )

    async def logs(statement: str, *args: object) -> set[UUID]:
        """Whose ``statement``'s own transaction logged (by its transaction id: a watermark read
        here would be held back by any transaction running elsewhere on the server meanwhile,
        and take in this test's earlier writes)."""
        async with admin_conn.transaction():
            await admin_conn.execute(statement, *args)
            xid = await admin_conn.fetchval("select pg_current_xact_id()::text::bigint")
        rows = await admin_conn.fetch(
            "select patient_id, caregiver_id from hold_changes where xid = $1::bigint::text::xid8",
            xid,
        )
        return {r["patient_id"] or r["caregiver_id"] for r in rows}

    # What hold_at_send reads: each logs whose it is.
    stops = [
        ("update patients set reminders_paused = true where id = $1", patient),
        ("update patients set reminders_paused = false where id = $1", patient),
        ("update patients set consent_at = null where id = $1", patient),
        ("update dose_events set status = 'taken' where id = $1", dose),
        ("update medications set status = 'paused' where id = $1", medication["id"]),
        ("update appointments set status = 'cancelled' where id = $1", appointment),
        ("update contact_points set opted_out_at = now() where patient_id = $1", patient),
        (
            "insert into patient_preferences (patient_id, category, patient_choice)"
            " values ($1, 'medication', 'out')",
            patient,
        ),
        ("update patient_preferences set patient_choice = 'in' where patient_id = $1", patient),
        ("delete from patient_preferences where patient_id = $1", patient),
        ("delete from dose_events where id = $1", dose),
    ]
    for statement, key in stops:
        # Some log more (consent withdrawn turns the caregiver's alerts off too).
        assert patient in await logs(statement, key), statement
    assert caregiver in await logs("update caregivers set active = false where id = $1", caregiver)
    # Other columns: nothing logged.
    quiet = [
        ("update patients set display_name = 'Ana B' where id = $1", patient),
        ("update contact_points set last_inbound_at = now() where patient_id = $1", patient),
        ("update medications set pill_count = 30 where id = $1", medication["id"]),
        ("update appointments set location = 'Room 2' where id = $1", appointment),
        ("update caregivers set name = 'Eve' where id = $1", caregiver),
    ]
    for statement, key in quiet:
        assert await logs(statement, key) == set(), statement


async def test_a_clinicians_write_is_logged_and_the_log_is_not_theirs_to_read(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    clinician = (await factories.create_clinician(admin_conn, org["id"]))["id"]
    patient = (await factories.create_patient(admin_conn, org["id"]))["id"]
    since = await _watermark(admin_conn)
    async with as_clinician(admin_conn, clinician) as conn:  # the dashboard's role
        await conn.execute("update patients set reminders_paused = true where id = $1", patient)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, clinician) as conn:
            await conn.fetchval("select count(*) from hold_changes")
    assert patient in await _changed(admin_conn, since)


async def test_a_write_begun_before_the_watermark_is_never_older_than_it(
    admin_conn: asyncpg.Connection, database_url: str
) -> None:
    org = await factories.create_organization(admin_conn)
    read_first = (await factories.create_patient(admin_conn, org["id"]))["id"]
    wrote_first = (await factories.create_patient(admin_conn, org["id"]))["id"]
    other = await asyncpg.connect(database_url)
    late = await asyncpg.connect(database_url)
    try:
        # One transaction had only read when the watermark was taken; one had written and not
        # committed. Both commit after it: both are seen from it on.
        reading, writing = other.transaction(), late.transaction()
        await reading.start()
        await other.fetchval("select count(*) from patients")
        await writing.start()
        await late.execute("update patients set reminders_paused = true where id = $1", wrote_first)
        since = await _watermark(admin_conn)
        await other.execute("update patients set reminders_paused = true where id = $1", read_first)
        await reading.commit()
        await writing.commit()
        assert await _changed(admin_conn, since) >= {read_first, wrote_first}
    finally:
        await other.close()
        await late.close()


async def test_old_entries_are_pruned(admin_conn: asyncpg.Connection) -> None:
    patient = (await factories.create_patient(admin_conn))["id"]
    await admin_conn.execute("update patients set reminders_paused = true where id = $1", patient)
    await admin_conn.execute(
        "update hold_changes set changed_at = now() - interval '2 hours' where patient_id = $1",
        patient,
    )
    await admin_conn.execute(
        query("dispatch", "prune_hold_changes"), datetime.now(UTC) - timedelta(hours=1)
    )
    assert (
        await admin_conn.fetchval(
            "select count(*) from hold_changes where patient_id = $1", patient
        )
        == 0
    )


async def test_a_log_read_past_its_bound_checks_every_send(admin_conn: asyncpg.Connection) -> None:
    """A watermark held back (a transaction left open elsewhere) reaches back over the hour the
    log keeps: past CHANGES_READ_MAX entries the handover reads no further and checks every
    send row by row instead."""
    since = await _watermark(admin_conn)
    checks = SendChecks(admin_conn)  # its ``fetch`` is the pool's, on one connection
    await admin_conn.execute(
        "insert into hold_changes (patient_id)"
        " select gen_random_uuid() from generate_series(1, $1)",
        CHANGES_READ_MAX,
    )
    assert not (await checks.changed_since(since)).everything
    await admin_conn.execute("insert into hold_changes (patient_id) values (gen_random_uuid())")
    changes = await checks.changed_since(since)
    assert changes.everything and not changes.patients
