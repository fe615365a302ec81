"""Nothing written for a patient while they are erased outlives the erasure, whoever writes it
(migration 20260101018950).

Found after the REST API's fix (migration 20260101018810): the dashboard's New appointment, the
authenticated role's direct inserts (PostgREST), the bot's and the planner's rows waited for the
erasure's lock on the patient's row (their foreign key's), then found the tombstone, whose key
still matches, and inserted: the rows stayed, of a patient who no longer exists. Each table that
points at a patient now reads the patient's status under that lock and refuses a deleted one.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from core.sql import query
from tests import factories
from tests.erasure_race import erased_while_waiting, waiting_for_locks
from tests.integration.clinician import as_clinician

# Nothing personal in either (migration 20260101018950): a planner step's failure for a patient
# (one the erasure caused must still be recordable), and the planner's queue of quiet windows
# changed (the erasure itself writes one, clearing the quiet hours).
UNGUARDED = {"planner_step_failures", "quiet_window_changes"}

POINTING_AT_PATIENTS = """
select c.conrelid::regclass::text as table_name, a.attname as column_name,
       exists (select 1 from pg_trigger t
                where t.tgrelid = c.conrelid and not t.tgisinternal
                  and t.tgfoid = 'public.patient_row_not_erased'::regproc
                  and (t.tgnargs = 0) = (a.attname = 'patient_id')
                  and a.attnum = all(t.tgattr::int2[]) and cardinality(t.tgattr::int2[]) = 1
                  and t.tgtype & 1 = 1 and t.tgtype & 2 = 2 and t.tgtype & 4 = 4
                  and t.tgtype & 16 = 16) as guarded
  from pg_constraint c
  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
 where c.contype = 'f' and c.confrelid = 'public.patients'::regclass
   and c.conrelid <> 'public.patients'::regclass
 order by 1, 2
"""


async def test_every_table_pointing_at_a_patient_refuses_an_erased_one(
    admin_conn: asyncpg.Connection,
) -> None:
    """A new table that points at patients gets the trigger too (row, before insert or update
    of its column), or this names it."""
    rows = await admin_conn.fetch(POINTING_AT_PATIENTS)
    assert len(rows) > 15
    unguarded = [
        f"{r['table_name']}.{r['column_name']}"
        for r in rows
        if not r["guarded"] and r["table_name"] not in UNGUARDED
    ]
    assert not unguarded, "rows of an erased patient are not refused in: " + ", ".join(unguarded)


async def _clinic(admin_conn: asyncpg.Connection) -> tuple[asyncpg.Record, asyncpg.Record]:
    org = await factories.create_organization(admin_conn)
    clinician = await factories.create_clinician(admin_conn, org["id"])
    return clinician, await factories.create_patient(admin_conn, org["id"])


async def _refusal(write: object) -> asyncpg.CheckViolationError:
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await write  # type: ignore[misc]
    return refused.value


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        # The dashboard's New appointment (lib/data/appointments.ts createAppointment).
        (
            "appointments",
            "insert into appointments (organization_id, patient_id, starts_at, duration_minutes)"
            " select p.organization_id, p.id, now() + interval '2 days', 30"
            " from patients p where p.id = $1",
        ),
        # A medicine inserted through PostgREST by the authenticated role.
        ("medications", "insert into medications (patient_id, name, dose) values ($1, 'M', '1')"),
    ],
)
async def test_a_clinicians_row_written_during_the_erasure_is_refused(
    database_url: str, admin_conn: asyncpg.Connection, table: str, statement: str
) -> None:
    clinician, patient = await _clinic(admin_conn)
    writer = await asyncpg.connect(database_url)
    try:

        async def write() -> None:
            async with as_clinician(writer, clinician["id"]) as conn:
                # Read as active first, as the dashboard's form does, then written.
                assert (
                    await conn.fetchval("select status from patients where id = $1", patient["id"])
                    == "active"
                )
                await conn.execute(statement, patient["id"])

        refused = await _refusal(
            erased_while_waiting(database_url, admin_conn, patient["id"], write())
        )
    finally:
        await writer.close()
    assert refused.constraint_name == f"{table}_patient_erased"
    assert not await admin_conn.fetchval(
        f"select count(*) from {table} where patient_id = $1", patient["id"]
    )


async def test_the_services_rows_of_an_erased_patient_are_refused(
    database_url: str, admin_conn: asyncpg.Connection
) -> None:
    """The service's writers (the bot's dialogs, the planner) too, during the erasure or after
    it; a row moved to an erased patient too; a live patient's rows are written as before."""
    _, patient = await _clinic(admin_conn)
    _, other = await _clinic(admin_conn)
    medication, _ = await factories.create_medication(admin_conn, other["id"])
    writer = await asyncpg.connect(database_url)
    try:
        await writer.execute("set role medremind_app")
        refused = await _refusal(
            erased_while_waiting(
                database_url,
                admin_conn,
                patient["id"],
                writer.execute(
                    # The bot's dialog that adds a chat to a patient.
                    "insert into contact_points (patient_id, channel, address)"
                    " values ($1, 'email', 'carer@example.org')",
                    patient["id"],
                ),
            )
        )
        assert refused.constraint_name == "contact_points_patient_erased"
        moved = await _refusal(
            writer.execute(
                "update medications set patient_id = $1 where id = $2",
                patient["id"],
                medication["id"],
            )
        )
        assert moved.constraint_name == "medications_patient_erased"
        # An invite naming an erased patient as the one it merges into another's record.
        invited = await _refusal(
            writer.execute(
                "insert into patient_invites"
                " (organization_id, patient_id, invitee_patient_id, token_hash, expires_at)"
                " values ($1, $2, $3, 'h6-token', now() + interval '1 day')",
                other["organization_id"],
                other["id"],
                patient["id"],
            )
        )
        assert invited.constraint_name == "patient_invites_patient_erased"
        await writer.execute(
            "update medications set name = 'Renamed' where id = $1", medication["id"]
        )
    finally:
        await writer.close()
    assert not await admin_conn.fetchval(
        "select count(*) from contact_points where patient_id = $1", patient["id"]
    )


async def test_an_erasure_chosen_to_break_a_deadlock_runs_again(
    database_url: str, admin_conn: asyncpg.Connection
) -> None:
    """A writer holds a row the erasure deletes (the invite a chat's /start locked) and then
    writes for the patient, whose row the erasure locked first: each waits for the other, and
    PostgreSQL failed the erasure, which had waited first (the clinic's DELETE a 500, the
    patient kept). The erasure now runs again once the writer is through, and takes its row
    (migration 20260101019000); whichever PostgreSQL fails, the erasure is done."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"], contacts={})
    await admin_conn.execute(
        "insert into patient_invites (organization_id, patient_id, token_hash, expires_at)"
        " values ($1, $2, 'h1-token', now() + interval '1 day')",
        org["id"],
        patient["id"],
    )
    writer, eraser = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        await writer.execute("set role medremind_app")
        writing = writer.transaction()
        await writing.start()
        await writer.execute("select 1 from patient_invites where patient_id = $1 for update",
                             patient["id"])  # fmt: skip
        erased = asyncio.ensure_future(
            eraser.execute("select public.erase_patient($1, 'erasure', now())", patient["id"])
        )
        await waiting_for_locks(admin_conn, 1)
        try:
            await writer.execute(
                "insert into contact_points (patient_id, channel, address)"
                " values ($1, 'email', 'ana@example.org')",
                patient["id"],
            )
            await writing.commit()
        except asyncpg.DeadlockDetectedError:
            # The writer waited first by the deadlock detector's clock (a loaded host delays
            # either one's check): it is the one failed, and a bot turn runs again.
            await writing.rollback()
        await erased
    finally:
        await writer.close()
        await eraser.close()
    assert (
        await admin_conn.fetchval("select status from patients where id = $1", patient["id"])
        == "deleted"
    )
    assert not await admin_conn.fetchval(
        "select count(*) from contact_points where patient_id = $1", patient["id"]
    )


TOMBSTONE = (
    "select status, display_name, consent_at, locale, timezone, quiet_start, home_timezone,"
    " channel_order, name_medicine_in_reminders from patients where id = $1"
)


@pytest.mark.parametrize(
    ("file", "name", "args"),
    [
        # The bot's consent of an invited patient: it made the tombstone active again.
        ("bot", "consent_invited_patient", ("now",)),
        ("bot", "set_patient_name", ("Ana Example",)),
        ("bot", "set_patient_locale", ("es",)),
        ("patient_app", "set_quiet_hours", ("22:00", "07:00")),
        ("patient_app", "set_name_medicine", (True,)),
        ("webpush", "put_channel_first", ("webpush", None)),
        ("planner", "move_home_timezone", ()),
    ],
)
async def test_the_patients_own_row_written_during_the_erasure_is_refused(
    database_url: str, admin_conn: asyncpg.Connection, file: str, name: str, args: tuple
) -> None:
    """The service's writes of the patient's own row (a dialog's name, language or consent, the
    patient app's settings, the planner) name the row by id alone: one that waited for the
    erasure's lock then wrote the tombstone, giving it back a name, settings, or its status
    (an invite's consent made it 'active' again, and the chat that agreed then got a contact
    point, the tombstone being a patient again). A tombstone now keeps what the erasure left:
    patients_patient_erased (migration 20260101019000)."""
    from datetime import UTC, datetime, time

    values = {"now": datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "22:00": time(22), "07:00": time(7)}
    _, patient = await _clinic(admin_conn)
    writer = await asyncpg.connect(database_url)
    try:
        await writer.execute("set role medremind_app")
        statement = query(file, name)
        refused = await _refusal(
            erased_while_waiting(
                database_url,
                admin_conn,
                patient["id"],
                writer.execute(statement, patient["id"], *[values.get(a, a) for a in args]),
            )
        )
    finally:
        await writer.close()
    assert refused.constraint_name == "patients_patient_erased"
    row = await admin_conn.fetchrow(TOMBSTONE, patient["id"])
    assert dict(row) == {
        "status": "deleted",
        "display_name": None,
        "consent_at": None,
        "locale": "en",
        "timezone": "UTC",
        "quiet_start": None,
        "home_timezone": None,
        "channel_order": [],
        "name_medicine_in_reminders": row["name_medicine_in_reminders"],
    }


async def test_a_tombstone_takes_only_what_the_service_keeps_of_it(
    admin_conn: asyncpg.Connection,
) -> None:
    """What may still change on a tombstone: its erasure again (the time and reason), and the
    bookkeeping the triggers keep (reachability, the planner's notice flag)."""
    _, patient = await _clinic(admin_conn)
    await admin_conn.execute("select public.erase_patient($1, 'first', now())", patient["id"])
    await admin_conn.execute("select public.erase_patient($1, 'again', now())", patient["id"])
    await admin_conn.execute(
        "update patients set unreachable_notice_pending = false where id = $1", patient["id"]
    )
    assert (
        await admin_conn.fetchval(
            "select erasure_reason from patients where id = $1", patient["id"]
        )
        == "again"
    )
