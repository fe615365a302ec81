"""The database keeps a one-line name on one line for every writer (migration 20260101019020).

The API and the dashboard's forms refuse a line break or control character in a clinic's,
medicine's or template's name and an appointment's place and clinician (core/one_line.py), but a
clinician's direct write (PostgREST as ``authenticated``, as the dashboard connects) stored one,
and the second line then rendered into the clinic's patients' SMS and e-mail as though the
message said it. Right-to-left names with their direction marks, emoji sequences and accents
stay; a row stored before keeps its name and can still be changed otherwise.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from core.one_line import refused_column
from tests import factories
from tests.integration.clinician import as_clinician

MIGRATION = (
    Path(__file__).parents[2]
    / "supabase/migrations/20260101019030_person_names_and_doses_one_line.sql"
)

# Each one-line column as a clinic's admin writes it over PostgREST ($1 the value, $2 the clinic).
WRITES = {
    "organizations_name_one_line": "update organizations set name = $1 where id = $2",
    "medications_name_one_line": "update medications m set name = $1 from patients p"
    " where p.id = m.patient_id and p.organization_id = $2",
    "message_templates_name_one_line": "insert into message_templates (organization_id, name,"
    " body) values ($2, $1, 'Hello {{ patient_name }}')",
    "appointments_location_one_line": "insert into appointments (organization_id, patient_id,"
    " starts_at, location) select organization_id, id, now() + interval '1 day', $1"
    " from patients where organization_id = $2",
    "appointments_clinician_name_one_line": "insert into appointments (organization_id,"
    " patient_id, starts_at, clinician_name) select organization_id, id,"
    " now() + interval '2 days', $1 from patients where organization_id = $2",
    # A person's name and a dose (migration 20260101019030): a patient named "Ana" and BEL
    # greeted nobody; the API and the bot refused a dose with one, a direct write did not.
    "patients_display_name_one_line": "update patients set display_name = $1"
    " where organization_id = $2",
    "caregivers_name_one_line": "update caregivers c set name = $1 from patients p"
    " where p.id = c.patient_id and p.organization_id = $2",
    "medications_dose_one_line": "update medications m set dose = $1 from patients p"
    " where p.id = m.patient_id and p.organization_id = $2",
}

BROKEN = ["Sunrise\nReply STOP to 555", "Sunrise\r", "Sun\u2028rise", "Sun\x07", "Sun\x85", "A\tB"]
# Kept as written: Arabic with a right-to-left mark, a family emoji's joiners, accents.
KEPT = [
    "\u0639\u064a\u0627\u062f\u0629 \u0627\u0644\u0646\u0648\u0631\u200f",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 Care",
    "Cl\u00ednica S\u00e3o Jo\u00e3o",
]


async def test_a_line_break_is_refused_for_a_clinician_writing_directly(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    admin = await factories.create_clinician(admin_conn, org["id"], role="admin")
    patient = await factories.create_patient(admin_conn, org["id"])
    await factories.create_medication(admin_conn, patient["id"])
    await admin_conn.execute(
        "insert into caregivers (patient_id, name, channel, address) values ($1, 'Luis',"
        " 'sms', '+34600111222')",
        patient["id"],
    )
    for constraint, sql in WRITES.items():
        for value in BROKEN:
            with pytest.raises(asyncpg.CheckViolationError) as refused:
                async with as_clinician(admin_conn, admin["id"]) as conn:
                    await conn.execute(sql, value, org["id"])
            assert refused.value.constraint_name == constraint, (constraint, value)
            # The API's reading of it: a 422 naming the column (check_refusal_response).
            assert refused_column(refused.value) == constraint.split("_", 1)[1].removeprefix(
                "templates_"
            ).removesuffix("_one_line")
            # The message names no value (a clinic's or a medicine's name): the logs keep it.
            assert value not in str(refused.value) and not refused.value.detail
        for index, value in enumerate(KEPT):
            async with as_clinician(admin_conn, admin["id"]) as conn:
                await conn.execute(
                    sql, f"{value} {index}" if "template" in sql else value, org["id"]
                )


async def test_a_name_stored_before_stays_and_its_row_can_change(
    admin_conn: asyncpg.Connection,
) -> None:
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"])
    medication, _ = await factories.create_medication(admin_conn, patient["id"])
    async with admin_conn.transaction():
        await admin_conn.execute("set local session_replication_role = replica")
        await admin_conn.execute(
            "update medications set name = $1 where id = $2", "Met\nformin", medication["id"]
        )
    await admin_conn.execute(
        "update medications set status = 'paused', name = name where id = $1", medication["id"]
    )
    assert (
        await admin_conn.fetchval("select name from medications where id = $1", medication["id"])
        == "Met\nformin"
    )


async def test_a_slot_offered_from_a_place_stored_before_can_be_accepted(
    admin_conn: asyncpg.Connection,
) -> None:
    """A freed slot's offer copies the cancelled appointment's place and clinician, and the
    patient's Yes copies them into the appointment it books: a place stored on two lines before
    the rule is offered, and booked, on one."""
    org = await factories.create_organization(admin_conn)
    patient = await factories.create_patient(admin_conn, org["id"])
    offer = await admin_conn.fetchval(
        "insert into slot_offers (organization_id, starts_at, duration_minutes, location,"
        " clinician_name) values ($1, now() + interval '2 days', 30, $2, $3) returning id",
        org["id"],
        "Room 3\nWest wing",
        "Dr\u2028Weiss",
    )
    entry = await admin_conn.fetchval(
        "insert into waitlist_entries (organization_id, patient_id) values ($1, $2) returning id",
        org["id"],
        patient["id"],
    )
    recipient = await admin_conn.fetchval(
        "insert into slot_offer_recipients (offer_id, entry_id, patient_id) values ($1, $2, $3)"
        " returning id",
        offer,
        entry,
        patient["id"],
    )
    outcome = await admin_conn.fetchrow(
        "select * from public.accept_slot_offer($1, now())", recipient
    )
    assert outcome["outcome"] == "booked"
    booked = await admin_conn.fetchrow(
        "select location, clinician_name from appointments where id = $1",
        outcome["appointment_id"],
    )
    assert tuple(booked) == ("Room 3 West wing", "Dr Weiss")


async def test_a_name_stored_before_is_folded_for_the_merge_that_copies_it(
    admin_conn: asyncpg.Connection,
) -> None:
    """Merging a patient's own record into the clinic's that has no name yet copies their name,
    and the rule of migration 20260101019030 would refuse one stored before holding BEL, failing
    the merge: the migration folds such a name onto one line. Its statement is run here as the
    migration runs it, over a name stored as before the rule."""
    org = await factories.create_organization(admin_conn)
    own = await factories.create_patient(admin_conn, None)
    record = await factories.create_patient(admin_conn, org["id"], display_name=None)
    async with admin_conn.transaction():
        await admin_conn.execute("set local session_replication_role = replica")
        await admin_conn.execute(
            "update patients set display_name = $1 where id = $2", "Ana\x07\x1b[0m Ruiz", own["id"]
        )
    migration = MIGRATION.read_text()
    await admin_conn.execute(migration[migration.index("do $$") :])
    await admin_conn.execute("select merge_patient($1, $2, now())", own["id"], record["id"])
    assert (
        await admin_conn.fetchval("select display_name from patients where id = $1", record["id"])
        == "Ana [0m Ruiz"
    )
