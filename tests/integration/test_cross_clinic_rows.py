"""A clinician cannot attach their clinic's row to another clinic's patient.

Row-level security checked only ``organization_id`` on patient_invites, appointments and
scheduled_messages, so a clinician writing through PostgREST (Supabase gives every signed-in
clinician that access, with the same role and policies the dashboard uses) could insert a row of
their own clinic naming another clinic's patient. The readers trust the pair: the bot redeems
an invite for ``patient_id`` (the redeeming chat becomes that patient's contact point and gets
their reminders), the planner sends an appointment's messages to ``patient_id``, and the worker
sends a message to ``patient_id`` and stores its rendered text (name, medicine) on a row the
forging clinic can read; a message's caregiver_id is where a caregiver alert goes. Migration
20260101007500 adds the patient's clinic (and, for a message, that its caregiver, dose and
appointment are the patient's) to the check.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests import factories
from tests.integration.clinician import as_clinician


async def _two_clinics(conn: asyncpg.Connection) -> dict[str, uuid.UUID]:
    mine = await factories.create_organization(conn)
    theirs = await factories.create_organization(conn)
    clinician = await factories.create_clinician(conn, mine["id"])
    my_patient = await factories.create_patient(conn, mine["id"])
    their_patient = await factories.create_patient(conn, theirs["id"])
    return {
        "org": mine["id"],
        "clinician": clinician["id"],
        "mine": my_patient["id"],
        "theirs": their_patient["id"],
    }


INSERTS = {
    "patient_invites": (
        "insert into patient_invites (organization_id, patient_id, token_hash, expires_at)"
        " values ($1, $2, md5(random()::text), now() + interval '1 day')"
    ),
    "appointments": (
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, now() + interval '3 days')"
    ),
    "scheduled_messages": (
        "insert into scheduled_messages (organization_id, patient_id, template)"
        " values ($1, $2, 'checkup')"
    ),
}


@pytest.mark.parametrize("table", list(INSERTS))
async def test_own_clinic_row_for_another_clinics_patient_is_refused(
    admin_conn: asyncpg.Connection, table: str
) -> None:
    ids = await _two_clinics(admin_conn)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, ids["clinician"]) as conn:
            await conn.execute(INSERTS[table], ids["org"], ids["theirs"])
    assert await admin_conn.fetchval(f"select count(*) from {table}") == 0
    # The same row for the clinic's own patient is fine.
    async with as_clinician(admin_conn, ids["clinician"]) as conn:
        await conn.execute(INSERTS[table], ids["org"], ids["mine"])
    assert await admin_conn.fetchval(f"select count(*) from {table}") == 1


async def test_own_row_cannot_be_moved_to_another_clinics_patient(
    admin_conn: asyncpg.Connection,
) -> None:
    ids = await _two_clinics(admin_conn)
    appointment = await admin_conn.fetchval(
        "insert into appointments (organization_id, patient_id, starts_at)"
        " values ($1, $2, $3) returning id",
        ids["org"],
        ids["mine"],
        datetime.now(UTC) + timedelta(days=3),
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, ids["clinician"]) as conn:
            await conn.execute(
                "update appointments set patient_id = $2 where id = $1", appointment, ids["theirs"]
            )
    assert (
        await admin_conn.fetchval("select patient_id from appointments where id = $1", appointment)
        == ids["mine"]
    )


async def test_own_patients_message_cannot_name_another_clinics_caregiver(
    admin_conn: asyncpg.Connection,
) -> None:
    """The dispatcher sends a row with a caregiver_id to that caregiver's address."""
    ids = await _two_clinics(admin_conn)
    theirs = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Luis', 'sms', '+34600000009') returning id",
        ids["theirs"],
    )
    mine = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Eva', 'sms', '+34600000008') returning id",
        ids["mine"],
    )
    insert = (
        "insert into scheduled_messages (organization_id, patient_id, caregiver_id,"
        " message_content) values ($1, $2, $3, 'x')"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with as_clinician(admin_conn, ids["clinician"]) as conn:
            await conn.execute(insert, ids["org"], ids["mine"], theirs)
    async with as_clinician(admin_conn, ids["clinician"]) as conn:
        await conn.execute(insert, ids["org"], ids["mine"], mine)
    assert await admin_conn.fetchval("select count(*) from scheduled_messages") == 1


async def test_a_caregiver_link_names_a_caregiver_of_its_own_patient(
    admin_conn: asyncpg.Connection,
) -> None:
    """caregiver_links.caregiver_id is read as "this caregiver's own chat opened the patient's
    link" (migration 20260101014300): a link of my patient naming another clinic's caregiver
    would vouch for a chat that never opened one of theirs. Any writer (the service's role here:
    clinicians cannot write links at all) is refused by the database (migration
    20260101019460), and so is a link of an erased patient; a merge still moves both."""
    ids = await _two_clinics(admin_conn)
    caregiver: dict[str, uuid.UUID] = {}
    for whose, name in (("mine", "Eva"), ("theirs", "Luis")):
        caregiver[whose] = await admin_conn.fetchval(
            "insert into caregivers (patient_id, name, channel, address)"
            " values ($1, $2, 'telegram', $3) returning id",
            ids[whose],
            name,
            str(7_000_000 + len(caregiver)),
        )
    insert = (
        "insert into caregiver_links (patient_id, token_hash, name, alert_delay_minutes,"
        " expires_at, used_at, caregiver_id)"
        " values ($1, md5(random()::text) || md5(random()::text), 'Eva', 30,"
        " now() + interval '7 days', now(), $2) returning id"
    )

    async def as_service(sql: str, *args: object) -> object:
        """``sql`` in a transaction of its own (the check is deferred to its commit)."""
        async with admin_conn.transaction():
            await admin_conn.execute("set local role medremind_app")
            return await admin_conn.fetchval(sql, *args)

    with pytest.raises(asyncpg.ForeignKeyViolationError) as crossed:
        await as_service(insert, ids["mine"], caregiver["theirs"])
    assert crossed.value.constraint_name == "caregiver_links_caregiver_of_patient"
    link = await as_service(insert, ids["mine"], caregiver["mine"])
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await as_service(
            "update caregiver_links set caregiver_id = $2 where id = $1", link, caregiver["theirs"]
        )
    linked = await admin_conn.fetchval("select caregiver_id from caregiver_links")
    assert linked == caregiver["mine"]

    await admin_conn.execute("select public.erase_patient($1, 'erasure', now())", ids["theirs"])
    with pytest.raises(asyncpg.CheckViolationError) as erased:
        await admin_conn.fetchval(insert, ids["theirs"], None)
    assert erased.value.constraint_name == "caregiver_links_patient_erased"

    # A self-registered record's used link and its caregiver move to the clinic's record.
    own = await factories.create_patient(admin_conn, None)
    own_caregiver = await admin_conn.fetchval(
        "insert into caregivers (patient_id, name, channel, address)"
        " values ($1, 'Eva', 'telegram', '7000009') returning id",
        own["id"],
    )
    await admin_conn.fetchval(insert, own["id"], own_caregiver)
    await admin_conn.execute("select merge_patient($1, $2, now())", own["id"], ids["mine"])
    moved = await admin_conn.fetch(
        "select l.patient_id, c.patient_id as caregivers_patient from caregiver_links l"
        " join caregivers c on c.id = l.caregiver_id"
    )
    assert {(r["patient_id"], r["caregivers_patient"]) for r in moved} == {
        (ids["mine"], ids["mine"])
    }
