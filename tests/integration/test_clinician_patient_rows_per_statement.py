"""A clinician's read of a patient's rows checks the clinic once per statement, not once per row
(migration 20260101017460).

Found on the dashboard's Patients page: a clinic of 527 patients with 28,000 doses in 30 days took
13-18 s to answer. Its adherence columns read the clinic's doses; the read policy of
``dose_events`` (and of medications, schedules, contact points, caregivers, preferences) called
``patient_in_my_organization(patient_id)``, a SECURITY DEFINER function the planner cannot inline,
for every row: 4.2 s of the query by EXPLAIN ANALYZE. Counted here as calls of the policy's
functions in the statement (PostgreSQL's own per-transaction function counts): before, at least
one a row; now a handful whatever the rows. The rows a clinician sees are the same: their
clinic's, not another's.
"""

from __future__ import annotations

import itertools

import asyncpg

from tests import factories
from tests.integration.clinician import as_clinician

PATIENTS = 40
DOSES = 50  # a patient's doses: 2,000 rows in all
TABLES = (
    "dose_events",
    "medications",
    "reminder_schedules",
    "contact_points",
    "caregivers",
    "patient_preferences",
)
_NUMBERS = itertools.count()
CALLS = """
select coalesce(sum(pg_stat_get_xact_function_calls(p.oid)), 0)::int
  from pg_proc p
 where p.pronamespace = 'public'::regnamespace
   and p.proname in ('patient_in_my_organization', 'current_organization_id')
"""


async def _clinic(conn: asyncpg.Connection, patients: int) -> asyncpg.Record:
    """A clinic of ``patients`` with a medicine each, ``DOSES`` doses, a caregiver and a
    preference; its clinician."""
    org = await factories.create_organization(conn)
    clinician = await factories.create_clinician(conn, org["id"])
    ids = await conn.fetch(
        "insert into patients (organization_id, display_name, timezone, consent_at, channel_order)"
        " select $1, 'Patient ' || g, 'UTC', now(), '{sms}' from generate_series(1, $2) g"
        " returning id",
        org["id"],
        patients,
    )
    for row in ids:
        # A number of its own (contact_points' (channel, address) is unique): four random
        # digits collided among the two clinics' 43 patients in about one run in twelve.
        await conn.execute(
            "insert into contact_points (patient_id, channel, address, verified)"
            " values ($1, 'sms', $2, true)",
            row["id"],
            f"+1415555{next(_NUMBERS):04d}",
        )
        _, schedule = await factories.create_medication(conn, row["id"])
        await conn.execute(
            "insert into dose_events (schedule_id, medication_id, patient_id, due_at, local_date,"
            " local_time, status)"
            " select $1, $2, $3, d, d::date, d::time, 'taken'"
            " from generate_series(now() - interval '1 day' * $4, now() - interval '1 day',"
            " interval '1 day') d",
            schedule["id"],
            schedule["medication_id"],
            row["id"],
            DOSES,
        )
        await conn.execute(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, 'Carer', 'sms', '+14155550100')",
            row["id"],
        )
        await conn.execute(
            "insert into patient_preferences (patient_id, category, clinic_choice)"
            " values ($1, 'clinic_news', 'out')",
            row["id"],
        )
    return clinician


async def test_a_clinicians_read_of_many_rows_checks_the_clinic_once(
    admin_conn: asyncpg.Connection,
) -> None:
    mine = await _clinic(admin_conn, PATIENTS)
    await _clinic(admin_conn, 3)  # another clinic's rows, never seen
    owned = {
        table: await admin_conn.fetchval(
            f"select count(*) from {table} t join patients p on p.id = t.patient_id"
            " where p.organization_id = $1",
            mine["organization_id"],
        )
        for table in TABLES
    }
    assert owned["dose_events"] == PATIENTS * DOSES

    seen: dict[str, int] = {}
    calls: dict[str, int] = {}
    await admin_conn.execute("set track_functions = 'all'")
    for table in TABLES:
        async with as_clinician(admin_conn, mine["id"]) as conn:
            before = await conn.fetchval(CALLS)
            seen[table] = await conn.fetchval(f"select count(*) from {table}")
            calls[table] = await conn.fetchval(CALLS) - before
    assert seen == owned
    # Before: one call of patient_in_my_organization a row at least (2,000 for the doses).
    assert max(calls.values()) <= 5, calls
